import { ServerConnection } from '@jupyterlab/services';
import type { CommandRegistry } from '@lumino/commands';

import { requestAPI } from '../api';

/**
 * What a served model does; it shapes the endpoint's outputs.
 */
export type Task = 'classification' | 'regression' | 'multilabel' | 'seq2seq';

export const TASKS: Task[] = [
  'classification',
  'regression',
  'multilabel',
  'seq2seq'
];

/**
 * The tag of a registered version naming its task type (what the platform
 * serves it as when a serve request names none).
 */
export const TASK_TAG = 'labworks.task';

/**
 * An endpoint name as the platform takes it (a DNS label): lower-case
 * letters, digits and dashes, a letter or digit first and last, at most 63.
 */
export const ENDPOINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The endpoint name offered for a registered model: its name lower-cased
 * (what the platform would choose), anything but letters, digits and dashes
 * made a dash.
 */
export function defaultEndpoint(model: string): string {
  return model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

export type DeploymentStatus = 'starting' | 'ready' | 'failed' | 'stopped';

/**
 * A deployment: an endpoint serving a stable version and maybe a canary, as
 * `/labworks/deployments/...` answers it (hub/labworks_hub/service/serving/
 * models.py).
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
  /** Why it is in its status (a failure's message). */
  reason: string;
  /** The Open Inference Protocol v2 inference URL. */
  url: string;
  created_at: string;
  updated_at: string;
}

/**
 * The body of `POST /labworks/deployments`.
 */
export interface IServeRequest {
  model: string;
  version: string;
  /** The endpoint name; default: the model's, lower-cased. */
  name?: string;
  /** Default: the version's `labworks.task` tag, else the platform's guess. */
  task?: Task;
}

/**
 * A typed client of the serving routes of this lab's server
 * (`/labworks/deployments`, relayed to the platform). Every method rejects
 * with an `APIError` carrying the platform's message when refused (400 a
 * version without a task type, 404 no such model or version, 409 a name
 * taken).
 */
export class DeploymentsClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * Serve a registered model's version; the deployment starts (status
   * `starting`) and answers once `ready`.
   */
  serve(request: IServeRequest): Promise<IDeployment> {
    return requestAPI<IDeployment>(
      'deployments',
      { method: 'POST', body: JSON.stringify(request) },
      this.serverSettings
    );
  }

  /**
   * A deployment as it is now.
   */
  deployment(name: string): Promise<IDeployment> {
    return requestAPI<IDeployment>(
      `deployments/${encodeURIComponent(name)}`,
      {},
      this.serverSettings
    );
  }
}

/**
 * The Models panel's "show" command (panels/models/plugin.ts), another
 * plugin's: offered only where it is installed.
 */
export const OPEN_MODELS_COMMAND = 'labworks:open-models';

/**
 * "Open in Models panel" for the serve dialog, or `undefined` when the lab
 * has no Models panel.
 */
export function openModelsAction(
  commands: CommandRegistry
): (() => void) | undefined {
  return commands.hasCommand(OPEN_MODELS_COMMAND)
    ? () => void commands.execute(OPEN_MODELS_COMMAND)
    : undefined;
}
