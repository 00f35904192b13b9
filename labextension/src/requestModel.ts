import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError } from './api';

/**
 * The text shown for a failed request: the server's message, or the error's.
 */
export function describeError(reason: unknown): string {
  if (reason instanceof APIError || reason instanceof Error) {
    return reason.message;
  }
  return String(reason);
}

/**
 * Base of the panels' models: whether a request is under way, the last error,
 * and a `changed` signal.
 *
 * Subclasses wrap each request in `run()`, which never rejects: a failure is
 * kept in `error` and it resolves `false`.
 */
export abstract class RequestModel implements IDisposable {
  /**
   * The last failure's text, or `null` after a success.
   */
  get error(): string | null {
    return this._error;
  }

  /**
   * Whether a request is under way.
   */
  get busy(): boolean {
    return this._busy;
  }

  /**
   * Emitted when anything the model holds changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /**
   * Run `work` as one request: busy while it runs, its failure in `error`.
   *
   * @returns whether it succeeded; `false` once the model is disposed
   */
  protected async run(work: () => Promise<void>): Promise<boolean> {
    if (this._isDisposed) {
      return false;
    }
    this._busy = true;
    this._changed.emit();
    let ok = true;
    try {
      await work();
      this._error = null;
    } catch (reason) {
      ok = false;
      this._error = this.describe(reason);
    }
    if (this._isDisposed) {
      return false;
    }
    this._busy = false;
    this._changed.emit();
    return ok;
  }

  /**
   * The text kept in `error` for a failed request.
   */
  protected describe(reason: unknown): string {
    return describeError(reason);
  }

  /**
   * Show a refusal found without a request (a form's check), or clear it;
   * the caller emits `changed`.
   */
  protected setError(error: string | null): void {
    this._error = error;
  }

  protected emitChanged(): void {
    this._changed.emit();
  }

  private _busy = false;
  private _changed = new Signal<this, void>(this);
  private _error: string | null = null;
  private _isDisposed = false;
}
