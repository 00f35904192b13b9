/**
 * What a sweep will cost, before it starts: each trial is a job on the
 * sweep's profile, so trials × the minutes a trial is expected to take ×
 * the profile's price per hour; while `parallel` trials run at once the
 * sweep burns `parallel` times the price per hour. Failed trials that are
 * retried, pruned trials that stop early and a platform queue are not in it.
 */
export interface ISweepEstimate {
  /** What the sweep costs an hour while `parallel` trials run. */
  perHour: number;
  /** What all trials cost, each taking the expected minutes. */
  total: number;
  /** Hours from start to end, trials running `parallel` at a time. */
  hours: number;
}

/**
 * The estimate, or `null` when an input is not a positive number.
 */
export function sweepEstimate(
  pricePerHour: number,
  trials: number,
  parallel: number,
  minutesPerTrial: number
): ISweepEstimate | null {
  if (
    !(pricePerHour >= 0) ||
    !Number.isInteger(trials) ||
    trials < 1 ||
    !Number.isInteger(parallel) ||
    parallel < 1 ||
    !(minutesPerTrial > 0) ||
    !Number.isFinite(minutesPerTrial)
  ) {
    return null;
  }
  const atOnce = Math.min(parallel, trials);
  return {
    perHour: pricePerHour * atOnce,
    total: (trials * minutesPerTrial * pricePerHour) / 60,
    hours: (Math.ceil(trials / atOnce) * minutesPerTrial) / 60
  };
}
