import {
  IRun,
  IRunMetric,
  metricNumber,
  runName
} from '../../common/experiments/types';

/**
 * The colors of compared runs, in order (Tableau 10: told apart by most
 * people, on light and dark themes).
 */
export const RUN_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac'
];

/**
 * The color of the n-th compared run.
 */
export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length];
}

/**
 * One run's history of one metric: steps ascending, one value each.
 */
export interface ICurve {
  steps: number[];
  values: number[];
}

/**
 * The histories of several runs, split by run, each sorted by step (the
 * last value logged at a step wins).
 */
export function curvesByRun(metrics: IRunMetric[]): Map<string, ICurve> {
  const points = new Map<string, Map<number, number>>();
  for (const metric of metrics) {
    let run = points.get(metric.run_id);
    if (run === undefined) {
      run = new Map();
      points.set(metric.run_id, run);
    }
    run.set(metric.step ?? 0, metricNumber(metric.value));
  }
  const curves = new Map<string, ICurve>();
  for (const [runId, byStep] of points) {
    const steps = [...byStep.keys()].sort((a, b) => a - b);
    curves.set(runId, { steps, values: steps.map(s => byStep.get(s)!) });
  }
  return curves;
}

/**
 * Exponential moving average, debiased as TensorBoard's smoothing is (the
 * first points are not pulled towards zero); `weight` 0 leaves the values
 * as they are. Values that are not finite are kept and skipped.
 */
export function smooth(values: number[], weight: number): number[] {
  if (weight <= 0) {
    return values;
  }
  let last = 0;
  let steps = 0;
  return values.map(value => {
    if (!Number.isFinite(value)) {
      return value;
    }
    last = last * weight + (1 - weight) * value;
    steps += 1;
    return last / (1 - Math.pow(weight, steps));
  });
}

/**
 * uPlot's data for curves overlaid on one step axis: the union of all
 * steps, then one series per run with `null` where it has no value (and,
 * on a log scale, where the value is not positive).
 */
export function alignCurves(
  curves: (ICurve | undefined)[],
  weight: number,
  logScale: boolean
): (number | null)[][] {
  const steps = new Set<number>();
  for (const curve of curves) {
    curve?.steps.forEach(s => steps.add(s));
  }
  const xs = [...steps].sort((a, b) => a - b);
  const position = new Map(xs.map((s, i) => [s, i]));
  const series = curves.map(curve => {
    const ys: (number | null)[] = new Array(xs.length).fill(null);
    if (curve) {
      const values = smooth(curve.values, weight);
      curve.steps.forEach((step, i) => {
        const y = values[i];
        const shown = Number.isFinite(y) && (!logScale || y > 0);
        ys[position.get(step)!] = shown ? y : null;
      });
    }
    return ys;
  });
  return [xs, ...series];
}

/**
 * uPlot's data for a bar chart of one metric's latest value, one series
 * per run (so each bar has its run's color and legend entry): x is the
 * run's position, each series has its value there and `null` elsewhere.
 */
export function barData(runs: IRun[], key: string): (number | null)[][] {
  const xs = runs.map((_, i) => i);
  const series = runs.map((run, i) => {
    const ys: (number | null)[] = new Array(runs.length).fill(null);
    const metric = run.data.metrics?.find(m => m.key === key);
    const value = metric === undefined ? NaN : metricNumber(metric.value);
    ys[i] = Number.isFinite(value) ? value : null;
    return ys;
  });
  return [xs, ...series];
}

/**
 * One row of the parameter diff: a key, each run's value (`undefined` when
 * it has none), and whether they differ.
 */
export interface IDiffRow {
  key: string;
  values: (string | undefined)[];
  differs: boolean;
}

/**
 * The parameters of the runs side by side, keys sorted.
 */
export function paramDiff(runs: IRun[]): IDiffRow[] {
  const keys = new Set<string>();
  const byRun = runs.map(run => {
    const params = new Map((run.data.params ?? []).map(p => [p.key, p.value]));
    params.forEach((_, key) => keys.add(key));
    return params;
  });
  return [...keys].sort().map(key => {
    const values = byRun.map(params => params.get(key));
    return { key, values, differs: new Set(values).size > 1 };
  });
}

/**
 * The metric keys any of the runs has, sorted.
 */
export function metricKeys(runs: IRun[]): string[] {
  const keys = new Set<string>();
  for (const run of runs) {
    run.data.metrics?.forEach(m => keys.add(m.key));
  }
  return [...keys].sort();
}

/**
 * The legend labels of compared runs: their names, with the start of the id
 * where two runs share a name.
 */
export function runLabels(runs: IRun[]): string[] {
  const names = runs.map(runName);
  return names.map((name, i) =>
    names.indexOf(name) !== names.lastIndexOf(name)
      ? `${name} (${runs[i].info.run_id.slice(0, 6)})`
      : name
  );
}
