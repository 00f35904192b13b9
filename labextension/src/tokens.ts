import { Token } from '@lumino/coreutils';
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
export interface IWorkspaceFacts {
  user: string;
  groups: string[];
  admin: boolean;
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
 * The Labworks sidebar: one left-area widget holding one section per panel.
 */
export interface ILabworksSidebar {
  /**
   * The id of the sidebar widget in the shell.
   */
  readonly id: string;

  /**
   * Add a panel as a collapsible section of the sidebar.
   *
   * The section header shows `panel.title.label`; the panel must have an id.
   * Panels are ordered by rank (lower first, default 100), then by insertion.
   */
  addPanel(panel: Widget, options?: ILabworksSidebar.IPanelOptions): void;

  /**
   * Reveal the sidebar in the shell and expand the panel with the given id.
   */
  activatePanel(panelId: string): void;
}

/**
 * A namespace for ILabworksSidebar statics.
 */
export namespace ILabworksSidebar {
  /**
   * Options to add a panel to the sidebar.
   */
  export interface IPanelOptions {
    /**
     * The position of the panel; lower ranks come first. Default 100.
     */
    rank?: number;
  }
}

/**
 * The Labworks sidebar token: later panels (Experiments, Jobs, Data, Costs)
 * require it and add themselves.
 */
export const ILabworksSidebar = new Token<ILabworksSidebar>(
  'labworks:ILabworksSidebar',
  'The Labworks sidebar, to which Labworks panels add themselves.'
);
