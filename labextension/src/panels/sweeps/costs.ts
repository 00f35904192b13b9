import { CostClient, ICostReport, monthsBetween } from '../../common/cost';
import type { ISweep } from './types';

/**
 * How long the current month's report is reused, in ms: a running sweep's
 * cost grows, but need not be asked for at every poll.
 */
export const CURRENT_MONTH_MS = 30_000;

/**
 * What each sweep cost: the sum over its trials, read from the platform's
 * cost reports by sweep (`/labworks/cost/report?by=sweep&month=...`) for
 * each month the sweep ran in. A past month's report is asked for once, the
 * current month's at most every `CURRENT_MONTH_MS`. The reports hold the
 * person's own sweeps (all sweeps for an administrator): another's sweep
 * shared with a group has no cost here.
 *
 * `update` never rejects: when the reports cannot be read (metering off, an
 * older platform) sweeps simply have no cost.
 */
export class SweepCosts {
  constructor(
    client: CostClient,
    options: { now?: () => number; currentMonthMs?: number } = {}
  ) {
    this._client = client;
    this._now = options.now ?? Date.now;
    this._currentMs = options.currentMonthMs ?? CURRENT_MONTH_MS;
  }

  /**
   * The currency of the reports (USD until one is read).
   */
  get currency(): string {
    return this._currency;
  }

  /**
   * What a sweep cost so far, or `undefined` when no report has it.
   */
  costOf(sweepId: string): number | undefined {
    let total: number | undefined = undefined;
    for (const month of this._months.get(sweepId) ?? []) {
      const cost = this._reports.get(month)?.get(sweepId);
      if (cost !== undefined) {
        total = (total ?? 0) + cost;
      }
    }
    return total;
  }

  /**
   * Read the reports the sweeps' months need; resolves whether any was read.
   */
  async update(sweeps: ReadonlyArray<ISweep>): Promise<boolean> {
    const now = this._now();
    const current = monthsBetween(new Date(now).toISOString(), null, now)[0];
    const wanted = new Set<string>();
    for (const sweep of sweeps) {
      const months = monthsBetween(sweep.created_at, sweep.finished_at, now);
      this._months.set(sweep.id, months);
      months.forEach(month => wanted.add(month));
    }
    const stale = [...wanted].filter(month =>
      month === current
        ? now - (this._read.get(month) ?? -Infinity) >= this._currentMs
        : !this._read.has(month)
    );
    const reports = await Promise.all(
      stale.map(month => this._client.report('sweep', month).catch(() => null))
    );
    let read = false;
    reports.forEach((report, i) => {
      if (report !== null) {
        this._keep(stale[i], report);
        this._read.set(stale[i], now);
        read = true;
      }
    });
    return read;
  }

  private _keep(month: string, report: ICostReport): void {
    this._currency = report.currency || this._currency;
    this._reports.set(
      month,
      new Map(report.rows.map(row => [row.key, row.cost_usd]))
    );
  }

  private _client: CostClient;
  private _currency = 'USD';
  private _currentMs: number;
  private _months = new Map<string, string[]>();
  private _now: () => number;
  private _read = new Map<string, number>();
  private _reports = new Map<string, Map<string, number>>();
}
