/**
 * Wire types of MLflow's public REST API (api/2.0/mlflow/...), as the
 * tracking server sends them through `/labworks/mlflow/...`, and of the runs
 * table's page (`/labworks/experiments/runs/table`). Only the fields the
 * Experiments panel reads are listed.
 */

/**
 * A key and a value: an experiment's or a run's tag, a run's parameter.
 */
export interface IKeyValue {
  key: string;
  value: string;
}

/**
 * One experiment (`experiments/search`).
 */
export interface IExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  /** Milliseconds since the epoch. */
  last_update_time?: number;
  creation_time?: number;
  tags?: IKeyValue[];
}

/**
 * The body of `experiments/search`.
 */
export interface IExperimentsPage {
  experiments?: IExperiment[];
  next_page_token?: string;
}

/**
 * A metric value: the latest of a run (`runs/search`) or one step of its
 * history. MLflow sends NaN and the infinities as strings.
 */
export interface IMetric {
  key: string;
  value: number | string;
  timestamp?: number;
  step?: number;
}

/**
 * A metric value of one of several runs (`metrics/get-history-bulk-interval`).
 */
export interface IRunMetric extends IMetric {
  run_id: string;
}

/**
 * The state of a run.
 */
export type RunStatus =
  'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/**
 * What MLflow says about a run besides its data.
 */
export interface IRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: RunStatus;
  /** Milliseconds since the epoch. */
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}

/**
 * A run's parameters, latest metric values and tags; MLflow leaves out
 * empty lists.
 */
export interface IRunData {
  metrics?: IMetric[];
  params?: IKeyValue[];
  tags?: IKeyValue[];
}

/**
 * A dataset a run read (`mlflow.log_input`), as `runs/get` writes it.
 */
export interface IDatasetInput {
  tags?: IKeyValue[];
  dataset: {
    name: string;
    digest: string;
    source_type?: string;
    source?: string;
  };
}

/**
 * One run; `runs/get` adds its inputs, `runs/search` pages leave them out.
 */
export interface IRun {
  info: IRunInfo;
  data: IRunData;
  inputs?: { dataset_inputs?: IDatasetInput[] };
}

/**
 * Parameter, metric and tag keys, by kind: the columns a runs table page
 * carries, or the keys its runs have.
 */
export interface IRunKeys {
  metrics: string[];
  params: string[];
  tags: string[];
}

/**
 * The body of `experiments/runs/table`: runs as `runs/search` writes them,
 * but their `data` holds only the asked columns; `keys` are all the keys the
 * page's runs have.
 */
export interface IRunsPage {
  runs: IRun[];
  next_page_token?: string | null;
  keys: IRunKeys;
}

/**
 * A file or folder of a run's artifacts (`artifacts/list`).
 */
export interface IFileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

/**
 * The body of `artifacts/list`.
 */
export interface IArtifactList {
  root_uri?: string;
  files?: IFileInfo[];
  next_page_token?: string;
}

/**
 * The tags that name the Labworks job that made a run: the lineage tag
 * (`labworks.track`), then an older spelling.
 */
export const JOB_ID_TAGS = ['labworks.job.id', 'labworks.job_id'];

/**
 * The id of the job that made a run, if a job did.
 */
export function jobIdOf(run: IRun): string | undefined {
  for (const key of JOB_ID_TAGS) {
    const value = run.data.tags?.find(t => t.key === key)?.value;
    if (value) {
      return value;
    }
  }
  return undefined;
}

/**
 * The tag holding a run's name.
 */
export const RUN_NAME_TAG = 'mlflow.runName';

/**
 * A metric's value as a number (NaN for what is not one).
 */
export function metricNumber(value: number | string | undefined): number {
  if (typeof value === 'number') {
    return value;
  }
  if (value === 'Infinity') {
    return Infinity;
  }
  if (value === '-Infinity') {
    return -Infinity;
  }
  return NaN;
}

/**
 * A run's name, or the start of its id when it has none.
 */
export function runName(run: IRun): string {
  return run.info.run_name || run.info.run_id.slice(0, 8);
}
