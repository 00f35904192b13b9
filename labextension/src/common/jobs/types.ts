/**
 * Wire types of the jobs routes of the server extension (`/labworks/jobs`,
 * `/labworks/schedules`). They mirror the platform's models
 * (hub/labworks_hub/service/jobs/models.py) and docs/reference/rest-api.md.
 */

import type { IDiffFiles } from '../nbdime';

/**
 * A job's state: waiting, running, or one of the four ends.
 */
export type JobStatus =
  'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

/**
 * Every status, in the order the filters show them.
 */
export const STATUSES: JobStatus[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled'
];

/**
 * Whether a job in this state has ended (and will not change again).
 */
export function hasEnded(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

/**
 * The type of a notebook parameter, from its annotation or its default.
 */
export type ParameterType =
  'int' | 'float' | 'bool' | 'str' | 'list' | 'dict' | 'any';

/**
 * One assignment of the notebook's `parameters` cell.
 */
export interface IParameterInfo {
  name: string;
  type: ParameterType;
  /** The default as JSON; `null` when it is not a literal. */
  default: unknown;
  /** The default as written in the cell. */
  default_text: string;
  /** The comment after the assignment. */
  help: string;
}

/**
 * What a notebook declares (GET /labworks/jobs/inspect?path=).
 */
export interface IInspectResult {
  kernel_name: string;
  language: string;
  has_parameters_cell: boolean;
  /** False: papermill cannot list this language's parameters. */
  inspectable: boolean;
  parameters: IParameterInfo[];
}

/**
 * Where a job ran: the local environment or an image.
 */
export interface IJobEnvironment {
  kind?: 'local' | 'image' | string;
  env_hash?: string;
  python?: string;
  image?: string;
  digest?: string;
  [key: string]: unknown;
}

/**
 * One run of a notebook job.
 */
export interface IJob {
  id: string;
  name: string;
  owner: string;
  shared_with_group: string | null;
  status: JobStatus;
  reason: string;
  notebook_path: string;
  notebook_sha256: string;
  parameters: Record<string, unknown>;
  profile: string;
  kernel_name: string;
  image: string;
  environment: IJobEnvironment;
  executor: string;
  timeout: number;
  retries: number;
  priority: number;
  attempt: number;
  cancel_requested: boolean;
  has_output: boolean;
  trigger: 'api' | 'schedule' | 'rerun' | 'sweep';
  schedule_id: string | null;
  rerun_of: string | null;
  created_at: string;
  updated_at: string;
  not_before: string;
  started_at: string | null;
  finished_at: string | null;
  duration_seconds: number | null;
}

/**
 * A step of a job's history.
 */
export interface IJobEvent {
  at: string;
  attempt: number;
  kind: string;
  message: string;
}

/**
 * A job with its history (GET /labworks/jobs/<id>).
 */
export interface IJobDetail extends IJob {
  events: IJobEvent[];
}

/**
 * A page of jobs (GET /labworks/jobs).
 */
export interface IJobList {
  jobs: IJob[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * A piece of a job's log (GET /labworks/jobs/<id>/logs?offset=N).
 */
export interface ILogChunk {
  job_id: string;
  attempt: number;
  offset: number;
  next_offset: number;
  text: string;
  /** True: the attempt ended and this is the end of its log. */
  complete: boolean;
}

/**
 * The output notebook (GET /labworks/jobs/<id>/output).
 */
/**
 * The MLflow runs a job logged (`GET /labworks/jobs/<id>/runs`).
 */
export interface IJobRuns {
  job_id: string;
  /** Run ids this user may read, newest first. */
  runs: string[];
}

export interface IJobOutput {
  job_id: string;
  attempt: number;
  /** False: the job still runs and this is its latest save. */
  complete: boolean;
  content: Record<string, unknown>;
}

/**
 * The files nbdime's diff page reads (POST /labworks/jobs/<id>/diff-files).
 */
export interface IJobDiffFiles extends IDiffFiles {
  /** Where the notebook was in the submitting workspace. */
  source_path: string;
}

/**
 * A notebook on a cron schedule.
 */
export interface ISchedule {
  id: string;
  definition_id: string;
  name: string;
  owner: string;
  shared_with_group: string | null;
  cron: string;
  timezone: string;
  paused: boolean;
  next_run_at: string | null;
  last_run_at: string | null;
  last_status: JobStatus | null;
  notebook_path: string;
  parameters: Record<string, unknown>;
  profile: string;
  kernel_name: string;
  timeout: number;
  retries: number;
  priority: number;
  created_at: string;
  updated_at: string;
}

/**
 * The next firing times of a cron expression (POST /labworks/schedules/preview).
 */
export interface IPreview {
  cron: string;
  timezone: string;
  /** ISO times with the time zone's offset. */
  next_runs: string[];
}

/**
 * What the lab sends to run a notebook (POST /labworks/jobs); the server
 * reads the notebook at `path`.
 */
export interface IJobRequest {
  path: string;
  name?: string;
  parameters?: Record<string, unknown>;
  profile?: string;
  kernel_name?: string;
  timeout?: number;
  retries?: number;
  share_with_group?: string;
}

/**
 * What the lab sends to put a notebook on a schedule (POST /labworks/schedules).
 */
export interface IScheduleRequest extends IJobRequest {
  cron: string;
  timezone: string;
}

/**
 * What a PATCH of a schedule changes (PATCH /labworks/schedules/<id>); the
 * fields left out stay as they are.
 */
export interface IScheduleUpdate {
  cron?: string;
  timezone?: string;
  /** All values the runs get (the notebook's defaults for the others). */
  parameters?: Record<string, unknown>;
  profile?: string;
  paused?: boolean;
}

/**
 * A workspace profile jobs run on (GET /labworks/profiles).
 */
export interface IJobProfile {
  name: string;
  display_name: string;
  description: string;
  /** CPU cores; `null`: not limited. */
  cpu_limit: number | null;
  /** Bytes; `null`: not limited. */
  mem_limit: number | null;
  gpu_count: number;
  /** The GPU model it asks for; empty: any. */
  gpu_model: string;
  /** The profile a job gets when it names none. */
  default: boolean;
  /** Whether this user can run jobs on it here. */
  available: boolean;
  /** Why it is not available; `null` when it is. */
  reason: string | null;
}

/**
 * Which job ends are told: failures and timeouts, every end, or none.
 */
export type NotifyEvents = 'failed' | 'finished' | 'none';

/**
 * How the user hears about their jobs ending (GET/PUT /labworks/jobs/notifications).
 */
export interface INotifySettings {
  /** Empty: no webhook. */
  webhook_url: string;
  /** Empty: no e-mail. */
  email: string;
  events: NotifyEvents;
  /** Read-only: whether the platform can send e-mail at all. */
  email_available?: boolean;
  /** Read-only: how an admin configures e-mail, when it is not available. */
  email_setup?: string;
}
