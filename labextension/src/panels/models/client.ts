import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';
import type {
  IDeployment,
  IDeploymentDetail,
  IDeploymentList,
  IInferRequest,
  IModel,
  IModelHistory,
  IModelList,
  IModelMetadata,
  IServeRequest,
  ITrafficRequest,
  IVersionDetail,
  IVersionList,
  IVersionSummary,
  Task
} from './types';

/**
 * A typed client of this lab's Models routes (`/labworks/models`,
 * `/labworks/deployments/...`). Every method rejects with an `APIError`
 * carrying the platform's (or the model's) message when refused.
 */
export class ModelsClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * The registered models the person can read.
   */
  async models(): Promise<IModel[]> {
    const answer = await requestAPI<IModelList>(
      'models',
      {},
      this.serverSettings
    );
    return answer.models ?? [];
  }

  /**
   * A registered model's versions, newest first.
   */
  async versions(model: string): Promise<IVersionSummary[]> {
    return (await this._model<IVersionList>(model, '/versions')).versions;
  }

  /**
   * One version: its task (tagged or inferred), aliases and lineage.
   */
  version(model: string, version: string): Promise<IVersionDetail> {
    return this._model(model, `/versions/${encodeURIComponent(version)}`);
  }

  /**
   * Set a version's task type (the model's owner only).
   */
  setTask(
    model: string,
    version: string,
    task: Task,
    reason: string
  ): Promise<IVersionDetail> {
    return this._model(
      model,
      `/versions/${encodeURIComponent(version)}/task`,
      'PUT',
      { task, reason }
    );
  }

  /**
   * Point an alias at a version (the model's owner only); resolves that
   * version.
   */
  setAlias(
    model: string,
    alias: string,
    version: string,
    reason: string
  ): Promise<IVersionDetail> {
    return this._model(model, `/aliases/${encodeURIComponent(alias)}`, 'PUT', {
      version,
      reason
    });
  }

  /**
   * Remove an alias (the model's owner only); resolves the model's history.
   */
  deleteAlias(
    model: string,
    alias: string,
    reason: string
  ): Promise<IModelHistory> {
    const query = new URLSearchParams({ reason }).toString();
    return this._model(
      model,
      `/aliases/${encodeURIComponent(alias)}?${query}`,
      'DELETE'
    );
  }

  /**
   * Who registered versions, moved aliases and changed tasks, newest first.
   */
  history(model: string): Promise<IModelHistory> {
    return this._model(model, '/history');
  }

  async deployments(): Promise<IDeployment[]> {
    return (await this._call<IDeploymentList>('')).deployments;
  }

  deployment(name: string): Promise<IDeploymentDetail> {
    return this._call(`/${encodeURIComponent(name)}`);
  }

  serve(request: IServeRequest): Promise<IDeploymentDetail> {
    return this._call('', 'POST', request);
  }

  traffic(name: string, request: ITrafficRequest): Promise<IDeploymentDetail> {
    return this._call(`/${encodeURIComponent(name)}/traffic`, 'PUT', request);
  }

  promote(name: string, reason: string): Promise<IDeploymentDetail> {
    return this._call(`/${encodeURIComponent(name)}/promote`, 'POST', {
      reason
    });
  }

  /**
   * Take the endpoint down: it stops answering now, its servers stop after.
   */
  undeploy(name: string): Promise<IDeployment> {
    return this._call(`/${encodeURIComponent(name)}`, 'DELETE');
  }

  /**
   * The endpoint's Open Inference Protocol metadata (its inputs and outputs).
   */
  metadata(name: string): Promise<IModelMetadata> {
    return this._call(`/${encodeURIComponent(name)}/metadata`);
  }

  /**
   * One inference request; resolves the model's answer as it is.
   */
  infer(name: string, request: IInferRequest): Promise<unknown> {
    return this._call(`/${encodeURIComponent(name)}/infer`, 'POST', request);
  }

  private _call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    return this._request(`deployments${path}`, method, body);
  }

  private _model<T>(
    model: string,
    path: string,
    method = 'GET',
    body?: unknown
  ): Promise<T> {
    return this._request(
      `models/${encodeURIComponent(model)}${path}`,
      method,
      body
    );
  }

  private _request<T>(
    path: string,
    method: string,
    body?: unknown
  ): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(path, init, this.serverSettings);
  }
}
