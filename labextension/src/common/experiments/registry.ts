import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';

/**
 * MLflow's REST API through this lab's server.
 */
const MLFLOW = 'mlflow/api/2.0/mlflow';

/**
 * A model logged in a run (MLflow 3's logged model, `logged-models/search`).
 */
export interface ILoggedModel {
  model_id: string;
  name: string;
  experiment_id?: string;
  artifact_uri?: string;
  source_run_id?: string;
  creation_timestamp_ms?: number;
}

/**
 * A registered model as `registered-models/*` answers.
 */
export interface IRegisteredModel {
  name: string;
  description?: string;
  latest_versions?: IModelVersion[];
  last_updated_timestamp?: number;
}

/**
 * A registered model as the platform lists it (`GET /models`).
 */
export interface IOwnedModel {
  name: string;
  owner: string | null;
  visibility: string;
  /** The user owns it: they may add versions to it. */
  yours: boolean;
}

/**
 * A model version as `model-versions/*` answers.
 */
export interface IModelVersion {
  name: string;
  version: string;
  source?: string;
  run_id?: string;
  status?: string;
}

/**
 * What a new model version is made from: a logged model (`models:/<id>`)
 * or a folder of the run's artifacts holding an `MLmodel` file.
 */
export interface IVersionSource {
  source: string;
  runId: string;
  modelId?: string;
}

/**
 * A typed client of MLflow's model registry routes, through this lab's
 * server (`/labworks/mlflow/api/2.0/mlflow/...`). Every method rejects with
 * an `APIError` carrying MLflow's message when refused.
 */
export class RegistryClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * The models logged in one run (`POST logged-models/search`).
   */
  async loggedModels(
    experimentId: string,
    runId: string
  ): Promise<ILoggedModel[]> {
    const answer = await this._post<{ models?: { info: ILoggedModel }[] }>(
      'logged-models/search',
      {
        experiment_ids: [experimentId],
        filter: `source_run_id = '${runId.replace(/'/g, '')}'`,
        max_results: 100
      }
    );
    return (answer.models ?? []).map(m => m.info);
  }

  /**
   * The names of the user's own registered models, last updated first (the
   * platform's `GET /models` through `/labworks/models`): the ones a version
   * may be added to.
   */
  async yourModels(): Promise<string[]> {
    const answer = await requestAPI<{ models?: IOwnedModel[] }>(
      'models',
      {},
      this.serverSettings
    );
    return (answer.models ?? []).filter(m => m.yours).map(m => m.name);
  }

  /**
   * A new, empty registered model (`POST registered-models/create`).
   */
  async createRegisteredModel(name: string): Promise<IRegisteredModel> {
    const answer = await this._post<{ registered_model: IRegisteredModel }>(
      'registered-models/create',
      { name }
    );
    return answer.registered_model;
  }

  /**
   * A new version of a registered model (`POST model-versions/create`),
   * anchored to the run (and logged model) it comes from, with `tags`.
   */
  async createModelVersion(
    name: string,
    from: IVersionSource,
    tags: Record<string, string> = {}
  ): Promise<IModelVersion> {
    const pairs = Object.entries(tags).map(([key, value]) => ({ key, value }));
    const answer = await this._post<{ model_version: IModelVersion }>(
      'model-versions/create',
      {
        name,
        source: from.source,
        run_id: from.runId,
        ...(from.modelId ? { model_id: from.modelId } : {}),
        ...(pairs.length > 0 ? { tags: pairs } : {})
      }
    );
    return answer.model_version;
  }

  private _post<T>(route: string, body: unknown): Promise<T> {
    return requestAPI<T>(
      `${MLFLOW}/${route}`,
      { method: 'POST', body: JSON.stringify(body) },
      this.serverSettings
    );
  }
}
