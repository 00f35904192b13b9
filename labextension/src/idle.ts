import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';

import { requestAPI } from './api';

/**
 * `GET /labworks/workspace/idle`: when the workspace stops for idleness.
 */
export interface IIdleStatus {
  /** Idle seconds before the stop; null = never stops. */
  timeout: number | null;
  idle_seconds: number;
  /** Seconds until the stop; null = never. */
  seconds_left: number | null;
  busy_kernels: number;
  /** How long before the stop the lab warns. */
  warn_before: number | null;
}

/**
 * What the watcher shows; the plugin maps it onto JupyterLab notifications.
 */
export interface IIdleNotifier {
  /** Show or update the warning; `keepRunning` is its action. */
  warn(message: string, keepRunning: () => void): void;
  /** Tell that the workspace stopped (the warning becomes this). */
  stopped(message: string): void;
  /** Remove the warning. */
  clear(): void;
}

/**
 * Human text for a number of seconds: "45 s", "4 min".
 */
export function formatLeft(seconds: number): string {
  if (seconds < 60) {
    return `${Math.max(0, Math.round(seconds))} s`;
  }
  return `${Math.round(seconds / 60)} min`;
}

/**
 * Seconds until the next check: often inside the warning window (the
 * countdown stays true), otherwise just in time for the window.
 */
export function nextCheck(status: IIdleStatus): number {
  if (status.seconds_left === null || status.warn_before === null) {
    return 60;
  }
  const untilWarning = status.seconds_left - status.warn_before;
  if (untilWarning <= 0) {
    return Math.min(5, Math.max(1, status.seconds_left / 2));
  }
  return Math.min(30, Math.max(1, untilWarning));
}

/**
 * Warns before the workspace stops for idleness, with a "Keep running" action,
 * and tells the server when a person uses the lab (keys, pointer, wheel): the
 * lab's own background polling does not count as activity on the server.
 */
export class IdleWatcher implements IDisposable {
  constructor(options: IdleWatcher.IOptions) {
    this._settings = options.serverSettings;
    this._notifier = options.notifier;
    this._target = options.target ?? document;
    this._now = options.now ?? (() => Date.now());
    for (const type of IdleWatcher.INTERACTIONS) {
      this._target.addEventListener(type, this._onInteraction, {
        capture: true,
        passive: true
      });
    }
  }

  /**
   * The last status the server gave, or null before the first check.
   */
  get status(): IIdleStatus | null {
    return this._status;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Fetch the status now, update the warning, and schedule the next check.
   */
  async check(): Promise<void> {
    window.clearTimeout(this._timer);
    let status: IIdleStatus;
    try {
      status = await requestAPI<IIdleStatus>(
        'workspace/idle',
        {},
        this._settings
      );
    } catch {
      if (this._warned && !this._disposed) {
        this._notifier.stopped(
          'This workspace stopped because it was idle. Your files are kept: start it again from the hub.'
        );
        this._warned = false;
      }
      this._schedule(30);
      return;
    }
    this._status = status;
    this._show(status);
    this._schedule(nextCheck(status));
  }

  /**
   * "Keep running": count as activity now and remove the warning.
   */
  async keepRunning(): Promise<void> {
    this._lastReport = this._now();
    const status = await requestAPI<IIdleStatus>(
      'workspace/activity',
      { method: 'POST', body: '{}' },
      this._settings
    );
    this._status = status;
    this._show(status);
    this._schedule(nextCheck(status));
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    window.clearTimeout(this._timer);
    for (const type of IdleWatcher.INTERACTIONS) {
      this._target.removeEventListener(type, this._onInteraction, {
        capture: true
      });
    }
  }

  private _show(status: IIdleStatus): void {
    const left = status.seconds_left;
    const inWindow =
      left !== null &&
      status.warn_before !== null &&
      status.busy_kernels === 0 &&
      left <= status.warn_before;
    if (inWindow) {
      this._warned = true;
      this._notifier.warn(
        `This workspace is idle and stops in about ${formatLeft(left)} to save cost. Your files are kept.`,
        () => void this.keepRunning().catch(() => undefined)
      );
    } else if (this._warned) {
      this._warned = false;
      this._notifier.clear();
    }
  }

  private _schedule(seconds: number): void {
    if (!this._disposed) {
      this._timer = window.setTimeout(() => void this.check(), seconds * 1000);
    }
  }

  /**
   * Report a person at most every tenth of the idle time (5 s to 60 s).
   */
  private _onInteraction = (): void => {
    const timeout = this._status?.timeout;
    if (!timeout || this._disposed) {
      return;
    }
    const every = Math.min(60, Math.max(5, timeout / 10)) * 1000;
    if (this._now() - this._lastReport >= every) {
      void this.keepRunning().catch(() => undefined);
    }
  };

  private _settings: ServerConnection.ISettings;
  private _notifier: IIdleNotifier;
  private _target: EventTarget;
  private _now: () => number;
  private _status: IIdleStatus | null = null;
  private _timer = 0;
  private _lastReport = 0;
  private _warned = false;
  private _disposed = false;
}

export namespace IdleWatcher {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    notifier: IIdleNotifier;
    /** Where interaction is listened to; the document by default. */
    target?: EventTarget;
    /** Milliseconds clock; Date.now by default. */
    now?: () => number;
  }

  /**
   * The events that mean a person is using the lab.
   */
  export const INTERACTIONS = ['keydown', 'pointerdown', 'wheel'];
}
