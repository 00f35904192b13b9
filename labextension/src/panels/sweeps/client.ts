import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';
import type { ISweep, ISweepDetail, ISweepList, ISweepRequest } from './types';

/**
 * A typed client of this lab's sweeps routes (`/labworks/sweeps/...`). Every
 * method rejects with an `APIError` carrying the platform's message when
 * refused (a 400 names the field at fault).
 */
export class SweepsClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  async list(): Promise<ISweep[]> {
    return (await this._call<ISweepList>('')).sweeps;
  }

  get(id: string): Promise<ISweepDetail> {
    return this._call(`/${id}`);
  }

  create(request: ISweepRequest): Promise<ISweepDetail> {
    return this._call('', 'POST', request);
  }

  stop(id: string): Promise<ISweepDetail> {
    return this._call(`/${id}/stop`, 'POST', {});
  }

  resume(id: string): Promise<ISweepDetail> {
    return this._call(`/${id}/resume`, 'POST', {});
  }

  extend(id: string, trials: number): Promise<ISweepDetail> {
    return this._call(`/${id}/extend`, 'POST', { trials });
  }

  /**
   * Delete a sweep with its trials and study; its jobs and runs stay.
   */
  delete(id: string): Promise<void> {
    return this._call(`/${id}`, 'DELETE');
  }

  private _call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(`sweeps${path}`, init, this.serverSettings);
  }
}
