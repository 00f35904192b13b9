import type { ServerConnection } from '@jupyterlab/services';

import { APIError } from '../../api';
import { RequestModel } from '../../requestModel';
import { CostPanelClient } from './client';
import { thisWorkspace } from './format';
import type { ISummary } from './types';

/**
 * Milliseconds between two asks of the summary (the platform's meter samples
 * every 15 s by default).
 */
export const METER_POLL_MS = 15_000;

/**
 * Milliseconds before asking again while the meter has not sampled this
 * workspace yet (it just started).
 */
export const METER_SOON_MS = 3_000;

/**
 * The status-bar meter's state: the person's cost summary, asked every
 * `pollMs` while the page is visible (at once when it becomes visible again),
 * sooner while this workspace has no sample yet. A refusal (403: a visitor
 * of a shared workspace, whose meter is not theirs) stops it for good.
 */
export class CostMeterModel extends RequestModel {
  constructor(options: CostMeterModel.IOptions = {}) {
    super();
    this.client = options.client ?? new CostPanelClient(options.serverSettings);
    this._pollMs = options.pollMs ?? METER_POLL_MS;
    this._soonMs = Math.min(options.soonMs ?? METER_SOON_MS, this._pollMs);
    this._document = options.document ?? document;
    this._document.addEventListener('visibilitychange', this._onVisibility);
  }

  readonly client: CostPanelClient;

  /**
   * The last summary received; `null` before the first.
   */
  get summary(): ISummary | null {
    return this._summary;
  }

  /**
   * Whether the person may not see this workspace's costs (it stopped).
   */
  get refused(): boolean {
    return this._refused;
  }

  /**
   * Ask now, then keep asking while the page is visible.
   */
  async refresh(): Promise<boolean> {
    this._stopTimer();
    if (this._refused) {
      return false;
    }
    const ok = await this.run(async () => {
      try {
        this._summary = await this.client.summary();
      } catch (reason) {
        if (reason instanceof APIError && reason.status === 403) {
          this._refused = true;
        }
        throw reason;
      }
    });
    this._schedule();
    return ok;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._stopTimer();
    this._document.removeEventListener('visibilitychange', this._onVisibility);
    super.dispose();
  }

  private _onVisibility = (): void => {
    if (this._document.hidden) {
      this._stopTimer();
    } else if (!this.busy) {
      void this.refresh();
    }
  };

  private _schedule(): void {
    if (
      this.isDisposed ||
      this._refused ||
      this._document.hidden ||
      this._timer !== null
    ) {
      return;
    }
    const summary = this._summary;
    const unsampled =
      summary !== null &&
      summary.workspace !== null &&
      thisWorkspace(summary) === null;
    this._timer = setTimeout(
      () => {
        this._timer = null;
        void this.refresh();
      },
      unsampled ? this._soonMs : this._pollMs
    );
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _document: Document;
  private _pollMs: number;
  private _refused = false;
  private _soonMs: number;
  private _summary: ISummary | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/**
 * A namespace for CostMeterModel statics.
 */
export namespace CostMeterModel {
  export interface IOptions {
    client?: CostPanelClient;
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between asks while the page is visible. */
    pollMs?: number;
    /** Milliseconds between asks while this workspace has no sample yet. */
    soonMs?: number;
    /** The page whose visibility pauses the polling (tests give their own). */
    document?: Document;
  }
}
