/**
 * Wire types of the sweeps routes of the server extension
 * (`/labworks/sweeps/...`). They mirror the platform's models
 * (hub/labworks_hub/service/sweeps/models.py).
 */

export type Sampler = 'grid' | 'random' | 'tpe' | 'cmaes';
export type Pruner = 'none' | 'median' | 'halving';
export type Direction = 'minimize' | 'maximize';
export type SweepStatus = 'running' | 'stopped' | 'succeeded' | 'failed';
export type TrialState = 'running' | 'complete' | 'pruned' | 'fail';
export type DimensionType = 'int' | 'float' | 'log-float' | 'categorical';

export const SAMPLERS: Sampler[] = ['tpe', 'random', 'grid', 'cmaes'];
export const PRUNERS: Pruner[] = ['none', 'median', 'halving'];
export const DIMENSION_TYPES: DimensionType[] = [
  'float',
  'log-float',
  'int',
  'categorical'
];

/**
 * One parameter of a search space: a range, or choices.
 */
export type Dimension =
  | {
      type: 'int' | 'float' | 'log-float';
      low: number;
      high: number;
      step?: number;
    }
  | { type: 'categorical'; choices: unknown[] };

/**
 * The body of POST /labworks/sweeps: the notebook's path and the sweep.
 */
export interface ISweepRequest {
  path: string;
  space: Record<string, Dimension>;
  metric: string;
  direction: Direction;
  sampler: Sampler;
  pruner: Pruner;
  trials: number;
  parallel: number;
  profile?: string;
  budget_seconds?: number;
  /** Stop starting trials once the sweep's trials cost this much. */
  max_cost_usd?: number;
  seed?: number;
}

export interface ITrial {
  number: number;
  state: TrialState;
  params: Record<string, unknown>;
  value: number | null;
  /** `[step, value]` pairs the trial reported. */
  intermediate: [number, number][];
  job_id: string;
  mlflow_run_id: string;
  reason: string;
  created_at: string;
  finished_at: string | null;
}

export interface ICounts {
  running: number;
  complete: number;
  pruned: number;
  fail: number;
}

export interface ISweep {
  id: string;
  name: string;
  owner: string;
  visibility: string;
  status: SweepStatus;
  reason: string;
  metric: string;
  direction: Direction;
  sampler: Sampler;
  pruner: Pruner;
  space: Record<string, Dimension>;
  /** Trials to complete (completed and pruned count). */
  trials: number;
  parallel: number;
  budget_seconds: number | null;
  counts: ICounts;
  best_value: number | null;
  best_params: Record<string, unknown> | null;
  best_trial: number | null;
  /** The MLflow run of the best trial. */
  best_run_id: string | null;
  parent_run_id: string;
  experiment_id: string;
  /** Estimated seconds left, from trial times. */
  eta_seconds: number | null;
  created_at: string;
  finished_at: string | null;
}

export interface ISweepDetail extends ISweep {
  trial_list: ITrial[];
  /** Each parameter's share of the objective's variation; empty until 4 trials complete. */
  importance: Record<string, number>;
}

export interface ISweepList {
  sweeps: ISweep[];
}

/**
 * Trials done: completed and pruned ones count toward `trials`.
 */
export function trialsDone(sweep: ISweep): number {
  return sweep.counts.complete + sweep.counts.pruned;
}
