import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

/**
 * Wire types of the Labworks server extension.
 *
 * They mirror the JSON documented in docs/reference/workspace-contract.md;
 * keep both in step.
 */

/**
 * The profile the workspace was started with (`profile` in GET /labworks/workspace).
 */
export interface IWorkspaceProfile {
  /** Profile slug, e.g. `cpu-small`. */
  name: string;
  /** Profile title, e.g. `CPU small`. */
  display_name: string;
  /** CPU cores; `null` when unlimited. */
  cpu_limit: number | null;
  /** Memory in bytes; `null` when unlimited. */
  mem_limit: number | null;
  /** GPUs given to this workspace. */
  gpu_count: number;
}

/**
 * The image the workspace runs (`image`).
 */
export interface IWorkspaceImage {
  /** Image reference; `null` for the local environment. */
  name: string | null;
  /** `sha256:...`; `null` for the local environment. */
  digest: string | null;
  /** True when the workspace runs in the local environment, not an image. */
  local: boolean;
}

/**
 * Links the panel offers (`links`).
 */
export interface IWorkspaceLinks {
  hub_control_panel: string;
  api_docs: string;
}

/**
 * Whether the platform service answered (`platform`).
 */
export interface IPlatformStatus {
  reachable: boolean;
  version: string | null;
  error: string | null;
}

/**
 * The body of GET /labworks/workspace.
 */
/**
 * Who is looking at a workspace: its owner, or someone it is shared with.
 */
export interface IWorkspaceViewer {
  /** The person's hub name. */
  name: string;
  /** Whether they own this workspace. */
  is_owner: boolean;
  /** `owner`, or what the server lets a visitor do: `read-write` or `read-only`. */
  access: 'owner' | 'read-write' | 'read-only';
}

/**
 * The facts of a workspace. `user`, `groups` and `admin` describe its owner,
 * whoever is looking; `viewer` is who is looking.
 */
export interface IWorkspaceFacts {
  user: string;
  groups: string[];
  admin: boolean;
  viewer: IWorkspaceViewer;
  profile: IWorkspaceProfile;
  image: IWorkspaceImage;
  /** ISO 8601 timestamp of the server start. */
  started_at: string;
  /** Seconds since the server start, measured by the server when it answered. */
  uptime_seconds: number;
  /** Seconds of inactivity before the culler stops the server; `0` = never. */
  idle_cull_timeout_seconds: number;
  links: IWorkspaceLinks;
  platform: IPlatformStatus;
}

/**
 * The workspace facts of this lab, asked of the server once and shared by
 * every panel (GET /labworks/workspace).
 */
export interface IWorkspaceFactsProvider {
  /**
   * The facts: the last ones received, else those of a first request.
   * A failed request is not kept: the next call asks again.
   */
  facts(): Promise<IWorkspaceFacts>;

  /**
   * Ask the server again; the answer becomes the shared facts.
   */
  refresh(): Promise<IWorkspaceFacts>;
}

/**
 * The workspace-facts token: panels require it instead of asking the server.
 */
export const IWorkspaceFactsProvider = new Token<IWorkspaceFactsProvider>(
  'labworks:IWorkspaceFactsProvider',
  'The facts of this workspace (user, groups, profile, image), asked once.'
);

/**
 * One GPU of this workspace, as GET /labworks/gpus reports it.
 */
export interface IGpuDevice {
  index: number;
  name: string;
  /** Bytes. */
  memory_total: number;
  /** Bytes. */
  memory_used: number;
  /** Percent of time the GPU was busy over the last sample period. */
  utilization: number;
}

/**
 * The JSON error body every Labworks route answers with.
 */
export interface IErrorBody {
  error: string;
  message: string;
}

/**
 * The Labworks panels' registry: each panel is its own tab in the shell's
 * side area (left or right), with its own icon and tooltip, as the file
 * browser and Git are. Where a tab goes (area and rank) comes from the
 * `labworks:sidebar` settings, else from the options of `addPanel`.
 */
export interface ILabworksSidebar {
  /**
   * Put a panel into the shell's side area as its own tab, restored with the
   * layout.
   *
   * The panel must have an id, and should have a `title.icon` (the tab) and
   * a `title.caption` (the tab's tooltip).
   */
  addPanel(panel: Widget, options?: ILabworksSidebar.IPanelOptions): void;

  /**
   * Show the tab of the panel with the given id (nothing if there is none).
   */
  activatePanel(panelId: string): void;

  /**
   * Where the tab of the panel with this id goes (or would go): the
   * settings' placement, else the one of its options, else the default.
   */
  placement(panelId: string): ILabworksSidebar.IPlacement;

  /**
   * The panels added so far, with their options, in the order of addition.
   */
  readonly panels: ReadonlyArray<ILabworksSidebar.IPanel>;

  /**
   * Emitted when a panel is added.
   */
  readonly panelAdded: ISignal<ILabworksSidebar, ILabworksSidebar.IPanel>;
}

/**
 * A namespace for ILabworksSidebar statics.
 */
export namespace ILabworksSidebar {
  /**
   * Where a panel's tab goes.
   */
  export interface IPlacement {
    /** The side area. */
    area: 'left' | 'right';
    /** The position in the area; lower ranks come first. */
    rank: number;
  }

  /**
   * Options to add a panel.
   */
  export interface IPanelOptions {
    /**
     * The placement when the settings name none for this panel; default
     * left, rank 900.
     */
    placement?: Partial<IPlacement>;

    /**
     * The command that opens the panel (its launcher card).
     */
    command?: string;
  }

  /**
   * A panel of the registry.
   */
  export interface IPanel {
    readonly widget: Widget;
    readonly options: IPanelOptions;
  }
}

/**
 * The Labworks sidebar token: the panels (Workspace, Jobs, Experiments, Data,
 * Gallery, Admin) require it and add themselves.
 */
export const ILabworksSidebar = new Token<ILabworksSidebar>(
  'labworks:ILabworksSidebar',
  'The registry of Labworks panels: each one a tab of the side area.'
);
