import { ServerConnection } from '@jupyterlab/services';

import { APIError, requestAPI } from '../../api';
import { RequestModel } from '../../requestModel';
import type {
  IGpuDevice,
  IWorkspaceFacts,
  IWorkspaceFactsProvider
} from '../../tokens';
import { WorkspaceFactsProvider } from '../../workspaceFacts';
import { SharingModel } from './sharing';

/**
 * How often the GPU figures are asked again while the workspace has GPUs.
 */
export const GPU_POLL_MS = 5000;

/**
 * The state of the Workspace panel: the facts of GET /labworks/workspace
 * (through the shared workspace-facts provider), the GPUs' live figures and
 * who the workspace is shared with.
 *
 * `refresh()` never rejects; a failure is kept in `error` (and the last
 * facts are kept).
 */
export class WorkspaceModel extends RequestModel {
  constructor(options: WorkspaceModel.IOptions = {}) {
    super();
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._provider =
      options.facts ?? new WorkspaceFactsProvider(this._serverSettings);
    this.sharing = new SharingModel({ serverSettings: this._serverSettings });
  }

  /**
   * Who this workspace is shared with (the Sharing section).
   */
  readonly sharing: SharingModel;

  /**
   * The last facts received, or `null` before the first answer.
   */
  get facts(): IWorkspaceFacts | null {
    return this._facts;
  }

  /**
   * The workspace's GPUs with live memory and utilization; empty without GPUs.
   */
  get gpus(): IGpuDevice[] {
    return this._gpus;
  }

  /**
   * Whether the facts have come (they are kept when a later request fails).
   */
  get loaded(): boolean {
    return this._facts !== null;
  }

  /**
   * The uptime in seconds at `now` (ms since the epoch), or `null` without facts.
   *
   * Counted from the server's `uptime_seconds` plus the time since it
   * answered, so a skewed browser clock does not matter; `started_at` is
   * the fallback when the server sent no uptime.
   */
  uptimeSeconds(now: number = Date.now()): number | null {
    const facts = this._facts;
    if (facts === null) {
      return null;
    }
    if (typeof facts.uptime_seconds === 'number') {
      return facts.uptime_seconds + Math.max(0, now - this._fetchedAt) / 1000;
    }
    const started = Date.parse(facts.started_at);
    return Number.isNaN(started) ? null : Math.max(0, (now - started) / 1000);
  }

  /**
   * Fetch the facts again. A slower, older request never overwrites a newer one.
   */
  async refresh(): Promise<void> {
    const request = ++this._requests;
    const isLatest = () => request === this._requests && !this.isDisposed;
    await this.run(async () => {
      let facts: IWorkspaceFacts;
      try {
        facts = await this._provider.refresh();
      } catch (reason) {
        if (isLatest()) {
          throw reason;
        }
        return;
      }
      if (isLatest()) {
        this._facts = facts;
        this._fetchedAt = Date.now();
        this._watchGpus(facts.profile.gpu_count > 0);
      }
    });
  }

  /**
   * Ask for the GPU figures again; a failure keeps the last ones.
   */
  async refreshGpus(): Promise<void> {
    try {
      const reply = await requestAPI<{ gpus: IGpuDevice[] }>(
        'gpus',
        {},
        this._serverSettings
      );
      if (!this.isDisposed) {
        this._gpus = reply.gpus;
        this.emitChanged();
      }
    } catch {
      // Live figures are best effort: the next poll tries again.
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watchGpus(false);
    this.sharing.dispose();
    super.dispose();
  }

  /**
   * The failure with its HTTP status, e.g. "Workspace facts are unavailable (HTTP 503)".
   */
  protected describe(reason: unknown): string {
    return reason instanceof APIError
      ? `${reason.message} (HTTP ${reason.status})`
      : super.describe(reason);
  }

  /**
   * Poll the GPU figures while the workspace has GPUs.
   */
  private _watchGpus(on: boolean): void {
    if (on && this._gpuTimer === null) {
      void this.refreshGpus();
      this._gpuTimer = setInterval(() => void this.refreshGpus(), GPU_POLL_MS);
    } else if (!on && this._gpuTimer !== null) {
      clearInterval(this._gpuTimer);
      this._gpuTimer = null;
      this._gpus = [];
    }
  }

  private _facts: IWorkspaceFacts | null = null;
  private _fetchedAt = 0;
  private _gpus: IGpuDevice[] = [];
  private _gpuTimer: ReturnType<typeof setInterval> | null = null;
  private _provider: IWorkspaceFactsProvider;
  private _requests = 0;
  private _serverSettings: ServerConnection.ISettings;
}

/**
 * A namespace for WorkspaceModel statics.
 */
export namespace WorkspaceModel {
  /**
   * Options to create a WorkspaceModel.
   */
  export interface IOptions {
    /**
     * The settings of the Jupyter server to ask; defaults to the page's.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * The shared workspace facts; defaults to a provider of its own.
     */
    facts?: IWorkspaceFactsProvider;
  }
}
