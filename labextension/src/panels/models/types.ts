/**
 * Wire types of the Models panel's routes of the server extension
 * (`/labworks/models`, `/labworks/deployments/...`). They mirror the
 * platform's models (hub/labworks_hub/service/serving/models.py and
 * routers/models.py) and the Open Inference Protocol v2 metadata.
 */

export type Task = 'classification' | 'regression' | 'multilabel' | 'seq2seq';
export type DeploymentStatus = 'starting' | 'ready' | 'failed' | 'stopped';

export const TASKS: Task[] = [
  'classification',
  'regression',
  'multilabel',
  'seq2seq'
];

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
 * The body of `POST /labworks/deployments`.
 */
export interface IServeRequest {
  model: string;
  version: string;
  /** The endpoint name; default: the model's, lower-cased. */
  name?: string;
  /** Default: the version's `labworks.task` tag. */
  task?: Task;
}

/**
 * A deployment: an endpoint serving a stable version and maybe a canary.
 */
export interface IDeployment {
  name: string;
  owner: string;
  visibility: string;
  model: string;
  version: string;
  canary_version: string | null;
  canary_percent: number;
  task: Task;
  status: DeploymentStatus;
  reason: string;
  /** The OIP v2 inference URL. */
  url: string;
  created_at: string;
  updated_at: string;
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
