import type { ISweepDetail, ITrial } from '../types';

export function trial(number: number, fields: Partial<ITrial> = {}): ITrial {
  return {
    number,
    state: 'complete',
    params: { x: number / 10 },
    value: number,
    intermediate: [],
    job_id: `job${number}`,
    mlflow_run_id: `run${number}`,
    reason: '',
    created_at: '2026-12-05T07:00:00Z',
    finished_at: null,
    ...fields
  };
}

export function sweep(fields: Partial<ISweepDetail> = {}): ISweepDetail {
  return {
    id: '0123456789ab',
    name: 'quad.ipynb',
    owner: 'alice',
    visibility: 'private',
    status: 'running',
    reason: '',
    metric: 'loss',
    direction: 'minimize',
    sampler: 'tpe',
    pruner: 'none',
    space: { x: { type: 'float', low: -1, high: 1 } },
    trials: 8,
    parallel: 2,
    budget_seconds: null,
    counts: { running: 1, complete: 2, pruned: 1, fail: 0 },
    best_value: 0.25,
    best_params: { x: 0 },
    best_trial: 1,
    best_run_id: 'run1',
    parent_run_id: 'parent',
    importance: {},
    experiment_id: '1',
    eta_seconds: 30,
    created_at: '2026-12-05T07:00:00Z',
    finished_at: null,
    trial_list: [
      trial(0),
      trial(1, { value: 0.25 }),
      trial(2, { state: 'running', value: null })
    ],
    ...fields
  };
}
