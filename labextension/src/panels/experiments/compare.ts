import { COST_METRIC } from '../../common/cost';
import { RequestModel } from '../../requestModel';
import { curvesByRun, ICurve, metricKeys } from './chartData';
import type { ExperimentsClient } from '../../common/experiments/client';
import { IRun, metricNumber } from '../../common/experiments/types';

/**
 * The comparison of a few runs: which metric the curves show, with what
 * smoothing and scale, which metric the bars show, and the metric
 * histories fetched so far.
 *
 * Methods never reject: a failure is kept in `error`.
 */
export class CompareModel extends RequestModel {
  constructor(options: CompareModel.IOptions) {
    super();
    this.client = options.client;
    this.runs = options.runs;
    this.metrics = metricKeys(this.runs).filter(key => key !== COST_METRIC);
    this.costs = this.runs.map(run => {
      const metric = run.data.metrics?.find(m => m.key === COST_METRIC);
      return metric === undefined ? undefined : metricNumber(metric.value);
    });
    this._curveMetric = this.metrics[0] ?? null;
    this._barMetric = this.metrics[0] ?? null;
  }

  readonly client: ExperimentsClient;

  /**
   * The runs compared, in the order of their colors.
   */
  readonly runs: IRun[];

  /**
   * The metric keys any of the runs has, sorted; the cost is not one of
   * them (it is shown on its own, see `costs`).
   */
  readonly metrics: string[];

  /**
   * What each run cost (in the order of `runs`), in US dollars; `undefined`
   * for a run without a cost (one that ran in a workspace, not as a job).
   */
  readonly costs: (number | undefined)[];

  get curveMetric(): string | null {
    return this._curveMetric;
  }

  get barMetric(): string | null {
    return this._barMetric;
  }

  /**
   * The smoothing weight of the curves, from 0 (none) to 0.99.
   */
  get smoothing(): number {
    return this._smoothing;
  }

  get logScale(): boolean {
    return this._logScale;
  }

  /**
   * Each run's curve of the shown metric (in the order of `runs`), or `null`
   * while it is not fetched.
   */
  get curves(): (ICurve | undefined)[] | null {
    const key = this._curveMetric;
    return (key === null ? undefined : this._histories.get(key)) ?? null;
  }

  /**
   * Fetch the shown metric's histories unless they are here.
   */
  async load(): Promise<boolean> {
    const key = this._curveMetric;
    if (key === null || this._histories.has(key)) {
      return true;
    }
    return this.run(async () => {
      const ids = this.runs.map(r => r.info.run_id);
      const metrics = await this.client.metricHistory(ids, key);
      const byRun = curvesByRun(metrics);
      this._histories.set(
        key,
        this.runs.map(r => byRun.get(r.info.run_id))
      );
    });
  }

  /**
   * Show this metric's curves (fetching its histories).
   */
  setCurveMetric(key: string): Promise<boolean> {
    this._curveMetric = key;
    this.emitChanged();
    return this.load();
  }

  setBarMetric(key: string): void {
    this._barMetric = key;
    this.emitChanged();
  }

  setSmoothing(weight: number): void {
    this._smoothing = Math.min(0.99, Math.max(0, weight));
    this.emitChanged();
  }

  setLogScale(on: boolean): void {
    this._logScale = on;
    this.emitChanged();
  }

  /**
   * The compared runs as CSV (the lab server writes it).
   */
  exportCsv(): Promise<string> {
    return this.client.exportCsv(this.runs.map(r => r.info.run_id));
  }

  private _barMetric: string | null;
  private _curveMetric: string | null;
  private _histories = new Map<string, (ICurve | undefined)[]>();
  private _logScale = false;
  private _smoothing = 0;
}

/**
 * A namespace for CompareModel statics.
 */
export namespace CompareModel {
  /**
   * Options to create a CompareModel.
   */
  export interface IOptions {
    client: ExperimentsClient;
    runs: IRun[];
  }
}
