/**
 * The scales of the sweep plots: pure functions from data to SVG
 * coordinates, tested on their own.
 */

/**
 * A scale: a value to a coordinate, with the ticks of its axis.
 */
export interface IScale {
  (value: number): number;
  ticks: number[];
}

/**
 * The smallest and largest of `values` (finite ones); a span around a
 * single value, `[0, 1]` for none, so that a scale always has width.
 */
export function extent(values: ReadonlyArray<number>): [number, number] {
  const finite = values.filter(v => Number.isFinite(v));
  if (finite.length === 0) {
    return [0, 1];
  }
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  if (low === high) {
    const pad = Math.abs(low) / 10 || 1;
    return [low - pad, high + pad];
  }
  return [low, high];
}

/**
 * About `count` round numbers covering `[low, high]` (steps of 1, 2 or 5
 * times a power of ten).
 */
export function niceTicks(low: number, high: number, count = 5): number[] {
  const span = high - low;
  if (!(span > 0) || !Number.isFinite(span)) {
    return [low];
  }
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (
    let t = Math.ceil(low / step) * step;
    t <= high + step * 1e-9;
    t += step
  ) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/**
 * A linear scale from `domain` onto `range` (which may run backwards, as a
 * y axis does).
 */
export function linearScale(
  domain: [number, number],
  range: [number, number]
): IScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const scale = ((value: number) =>
    d1 === d0
      ? (r0 + r1) / 2
      : r0 + ((value - d0) / (d1 - d0)) * (r1 - r0)) as IScale;
  scale.ticks = niceTicks(Math.min(d0, d1), Math.max(d0, d1));
  return scale;
}

/**
 * A log scale (base 10) from a positive `domain` onto `range`; its ticks
 * are the powers of ten inside the domain (the ends when there are none).
 */
export function logScale(
  domain: [number, number],
  range: [number, number]
): IScale {
  const inner = linearScale(
    [Math.log10(domain[0]), Math.log10(domain[1])],
    range
  );
  const scale = ((value: number) => inner(Math.log10(value))) as IScale;
  const powers: number[] = [];
  for (
    let p = Math.ceil(Math.log10(domain[0]));
    p <= Math.floor(Math.log10(domain[1]));
    p++
  ) {
    powers.push(Math.pow(10, p));
  }
  scale.ticks = powers.length > 0 ? powers : [domain[0], domain[1]];
  return scale;
}

/**
 * A scale placing each of `choices` at an even step along `range`, for a
 * categorical axis; an unknown value goes to the middle.
 */
export function pointScale(
  choices: ReadonlyArray<unknown>,
  range: [number, number]
): (value: unknown) => number {
  const keys = choices.map(c => JSON.stringify(c));
  const [r0, r1] = range;
  return (value: unknown) => {
    const index = keys.indexOf(JSON.stringify(value));
    if (index < 0 || keys.length === 1) {
      return (r0 + r1) / 2;
    }
    return r0 + (index / (keys.length - 1)) * (r1 - r0);
  };
}

/**
 * The best value so far at each point of `values` (in trial order), for the
 * "best so far" line of the objective plot; gaps (`null`) keep the best.
 */
export function bestSoFar(
  values: ReadonlyArray<number | null>,
  direction: 'minimize' | 'maximize'
): (number | null)[] {
  let best: number | null = null;
  return values.map(v => {
    if (v !== null && Number.isFinite(v)) {
      if (best === null || (direction === 'minimize' ? v < best : v > best)) {
        best = v;
      }
    }
    return best;
  });
}

/**
 * A number short enough for an axis label.
 */
export function tickLabel(value: number): string {
  if (value === 0) {
    return '0';
  }
  const size = Math.abs(value);
  if (size >= 1e5 || size < 1e-3) {
    return value.toExponential(0);
  }
  return String(Number(value.toPrecision(3)));
}
