/**
 * Wire types of the Models panel's routes of the server extension
 * (`/labworks/models`, `/labworks/deployments/...`). They mirror the
 * platform's models (hub/labworks_hub/service/serving/models.py and
 * routers/models.py) and the Open Inference Protocol v2 metadata.
 */

import type { IDeployment, Task } from '../../common/deployments';

export type {
  DeploymentStatus,
  IDeployment,
  IServeRequest,
  Task
} from '../../common/deployments';
export { TASKS } from '../../common/deployments';

/**
 * A version of a registered model, newest first in its model.
 */
export interface IModelVersion {
  version: string;
  run_id: string | null;
  source: string;
  status: string;
  creation_time: number | null;
}

/**
 * A registered model the person can read (`GET /labworks/models`).
 */
export interface IModel {
  name: string;
  owner: string | null;
  visibility: string;
  yours: boolean;
  description: string;
  latest_versions: IModelVersion[];
  /** Alias → version. */
  aliases: Record<string, string>;
}

export interface IModelList {
  models: IModel[];
}

/**
 * A version as a model's versions list shows it (`GET .../versions`).
 */
export interface IVersionSummary {
  version: string;
  run_id: string | null;
  status: string;
  creation_time: number | null;
  /** The model's aliases that point at it. */
  aliases: string[];
  /** Its `labworks.task` tag (`null`: none; the version's detail infers). */
  task: Task | null;
}

export interface IVersionList {
  versions: IVersionSummary[];
}

/**
 * Where a version came from: its run's lineage. Only `run_id` when the
 * person may not read the run (`readable` false).
 */
export interface ILineage {
  run_id: string;
  readable: boolean;
  experiment_id?: string | null;
  run_name?: string | null;
  user?: string | null;
  notebook?: string | null;
  notebook_sha256?: string | null;
  job_id?: string | null;
  job_name?: string | null;
  /** The job's notebook parameters. */
  parameters?: Record<string, string>;
  /** Each dataset read, with its version (`''`: unknown). */
  datasets?: { name: string; version: string }[];
  image?: string | null;
  image_digest?: string | null;
  env_hash?: string | null;
  git_commit?: string | null;
  /** What the run's job cost (its `labworks.cost_usd`). */
  cost_usd?: number | null;
}

/**
 * One version in detail (`GET .../versions/<v>`).
 */
export interface IVersionDetail {
  name: string;
  version: string;
  run_id: string | null;
  source: string;
  status: string;
  description: string;
  creation_time: number | null;
  aliases: string[];
  /** Its task: the tag, else inferred (`null`: unknown). */
  task: Task | null;
  /** No tag: inferred from its signature and flavour. */
  task_inferred: boolean;
  /** The person may change its task and the model's aliases. */
  editable: boolean;
  lineage: ILineage | null;
}

/**
 * One change to a registered model: who registered, moved or changed what.
 */
export interface IModelEvent {
  at: string;
  actor: string;
  action: 'register' | 'alias.set' | 'alias.delete' | 'task' | string;
  alias: string | null;
  from_version: string | null;
  to_version: string | null;
  detail: Record<string, string>;
  reason: string;
}

export interface IModelHistory {
  name: string;
  events: IModelEvent[];
}

export interface IDeploymentList {
  deployments: IDeployment[];
}

/**
 * One model server's live figures over the last minute.
 */
export interface ITraffic {
  requests: number;
  errors: number;
  rate_per_second: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}

/**
 * A model server of a deployment: one version, stable or canary.
 */
export interface IServer {
  version: string;
  role: 'stable' | 'canary';
  status: string;
  reason: string;
  restarts: number;
  started_at: string | null;
  ready_at: string | null;
  traffic: ITraffic;
}

/**
 * One change to a deployment: who, what, why.
 */
export interface IDeploymentEvent {
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
  reason: string;
}

export interface IDeploymentDetail extends IDeployment {
  servers: IServer[];
  events: IDeploymentEvent[];
}

/**
 * The body of `PUT /labworks/deployments/<name>/traffic`.
 */
export interface ITrafficRequest {
  canary_version: string | null;
  percent: number;
  reason: string;
}

/**
 * A tensor of the OIP v2 model metadata; -1 in a shape: any size.
 */
export interface ITensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/**
 * The OIP v2 model metadata (`GET .../metadata`).
 */
export interface IModelMetadata {
  name: string;
  versions?: string[];
  platform?: string;
  inputs?: ITensorMetadata[];
  outputs?: ITensorMetadata[];
}

/**
 * One input tensor of an OIP v2 inference request.
 */
export interface IInferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface IInferRequest {
  inputs: IInferInput[];
}
