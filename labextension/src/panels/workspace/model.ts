import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, requestAPI } from '../../api';
import type { IGpuDevice, IWorkspaceFacts } from '../../tokens';
import { SharingModel } from './sharing';

/**
 * How often the GPU figures are asked again while the workspace has GPUs.
 */
export const GPU_POLL_MS = 5000;

/**
 * The state of the Workspace panel: the facts of GET /labworks/workspace,
 * whether a request is under way, and the error of the last one.
 *
 * `changed` is emitted whenever any of them changes. `refresh()` never
 * rejects; a failure is kept in `error` (and the last facts are kept).
 */
export class WorkspaceModel implements IDisposable {
  constructor(options: WorkspaceModel.IOptions = {}) {
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
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
   * The text of the last request's error, or `null` when it succeeded.
   */
  get error(): string | null {
    return this._error;
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
   * Whether a request is under way.
   */
  get busy(): boolean {
    return this._busy;
  }

  /**
   * Emitted when facts, error or busy change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
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
    if (this._isDisposed) {
      return;
    }
    const request = ++this._requests;
    this._busy = true;
    this._changed.emit();
    try {
      const facts = await requestAPI<IWorkspaceFacts>(
        'workspace',
        {},
        this._serverSettings
      );
      if (request !== this._requests || this._isDisposed) {
        return;
      }
      this._facts = facts;
      this._fetchedAt = Date.now();
      this._error = null;
      this._watchGpus(facts.profile.gpu_count > 0);
    } catch (reason) {
      if (request !== this._requests || this._isDisposed) {
        return;
      }
      this._error = Private.describe(reason);
    }
    this._busy = false;
    this._changed.emit();
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
      if (!this._isDisposed) {
        this._gpus = reply.gpus;
        this._changed.emit();
      }
    } catch {
      // Live figures are best effort: the next poll tries again.
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._watchGpus(false);
    this.sharing.dispose();
    Signal.clearData(this);
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

  private _busy = false;
  private _changed = new Signal<this, void>(this);
  private _error: string | null = null;
  private _facts: IWorkspaceFacts | null = null;
  private _fetchedAt = 0;
  private _gpus: IGpuDevice[] = [];
  private _gpuTimer: ReturnType<typeof setInterval> | null = null;
  private _isDisposed = false;
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
  }
}

namespace Private {
  /**
   * The text shown for a failed request.
   */
  export function describe(reason: unknown): string {
    if (reason instanceof APIError) {
      return `${reason.message} (HTTP ${reason.status})`;
    }
    if (reason instanceof Error) {
      return reason.message;
    }
    return String(reason);
  }
}
