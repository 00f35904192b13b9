import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';
import type { IAdminGroup, IAdminUser, ITransferred } from './types';

/**
 * A typed client of this lab's admin routes (`/labworks/admin/...`). Every
 * method rejects with an `APIError` carrying the platform's message when
 * refused (403 for anyone but an administrator in their own workspace).
 */
export class AdminClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  async users(): Promise<IAdminUser[]> {
    return (await this._call<{ users: IAdminUser[] }>('users')).users;
  }

  async groups(): Promise<IAdminGroup[]> {
    return (await this._call<{ groups: IAdminGroup[] }>('groups')).groups;
  }

  /**
   * Disable (`false`) or enable (`true`) an account.
   */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const action = enabled ? 'enable' : 'disable';
    await this._call(`users/${enc(name)}/${action}`, 'POST', {});
  }

  /**
   * Hand what `name` owns to `to`.
   */
  transfer(name: string, to: string): Promise<ITransferred> {
    return this._call(`users/${enc(name)}/transfer`, 'POST', { to });
  }

  async deleteUser(name: string): Promise<void> {
    await this._call(`users/${enc(name)}`, 'DELETE');
  }

  async createGroup(name: string): Promise<void> {
    await this._call('groups', 'POST', { name });
  }

  async deleteGroup(name: string): Promise<void> {
    await this._call(`groups/${enc(name)}`, 'DELETE');
  }

  async addMember(group: string, user: string): Promise<void> {
    await this._call(`groups/${enc(group)}/members/${enc(user)}`, 'PUT');
  }

  async removeMember(group: string, user: string): Promise<void> {
    await this._call(`groups/${enc(group)}/members/${enc(user)}`, 'DELETE');
  }

  private _call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(`admin/${path}`, init, this.serverSettings);
  }
}

const enc = encodeURIComponent;
