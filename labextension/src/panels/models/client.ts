import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';
import type {
  IDeployment,
  IDeploymentDetail,
  IDeploymentList,
  IInferRequest,
  IModel,
  IModelList,
  IModelMetadata,
  IServeRequest,
  ITrafficRequest
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
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(`deployments${path}`, init, this.serverSettings);
  }
}
