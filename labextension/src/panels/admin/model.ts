import type { ServerConnection } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { RequestModel } from '../../requestModel';
import { AdminClient } from './client';
import type { IAdminGroup, IAdminUser } from './types';

/**
 * The Admin panel's state: the platform's users and groups, and the changes
 * an administrator makes to them. Every change asks for both lists again,
 * so the panel shows what the platform holds.
 *
 * Methods never reject: a failure (the platform's message) is kept in
 * `error`; a success says what it did in `notice`.
 */
export class AdminModel extends RequestModel {
  constructor(options: AdminModel.IOptions = {}) {
    super();
    this.client = options.client ?? new AdminClient(options.serverSettings);
    this._trans = (options.translator ?? nullTranslator).load('labworks');
  }

  readonly client: AdminClient;

  get users(): IAdminUser[] {
    return this._users;
  }

  get groups(): IAdminGroup[] {
    return this._groups;
  }

  /**
   * Whether both lists arrived at least once.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * What the last change did, in a sentence; `null` after a refresh or a
   * failure.
   */
  get notice(): string | null {
    return this._notice;
  }

  refresh(): Promise<boolean> {
    return this._change(null, async () => undefined);
  }

  setEnabled(name: string, enabled: boolean): Promise<boolean> {
    return this._change(
      enabled
        ? this._trans.__('Enabled %1.', name)
        : this._trans.__('Disabled %1.', name),
      () => this.client.setEnabled(name, enabled)
    );
  }

  /**
   * Delete an account, first handing what it owns to `transferTo` (when not
   * `null`; otherwise what it owns stays under its name).
   */
  deleteUser(name: string, transferTo: string | null): Promise<boolean> {
    let moved = '';
    return this._change(
      () => this._trans.__('Deleted %1.', name) + moved,
      async () => {
        if (transferTo !== null) {
          const answer = await this.client.transfer(name, transferTo);
          moved = ` ${describeMoved(answer.moved, transferTo, this._trans)}`;
        }
        await this.client.deleteUser(name);
      }
    );
  }

  createGroup(name: string): Promise<boolean> {
    const group = name.trim();
    if (!group) {
      this.setError(this._trans.__('Give the new group a name.'));
      this.emitChanged();
      return Promise.resolve(false);
    }
    return this._change(this._trans.__('Created group %1.', group), () =>
      this.client.createGroup(group)
    );
  }

  deleteGroup(name: string): Promise<boolean> {
    return this._change(this._trans.__('Deleted group %1.', name), () =>
      this.client.deleteGroup(name)
    );
  }

  addMember(group: string, user: string): Promise<boolean> {
    return this._change(this._trans.__('Added %1 to %2.', user, group), () =>
      this.client.addMember(group, user)
    );
  }

  removeMember(group: string, user: string): Promise<boolean> {
    return this._change(
      this._trans.__('Removed %1 from %2.', user, group),
      () => this.client.removeMember(group, user)
    );
  }

  /**
   * Make a change, then list users and groups again; `notice` says what was
   * done (`null`: nothing to say).
   */
  private async _change(
    notice: string | null | (() => string),
    work: () => Promise<unknown>
  ): Promise<boolean> {
    this._notice = null;
    const ok = await this.run(async () => {
      await work();
      const [users, groups] = await Promise.all([
        this.client.users(),
        this.client.groups()
      ]);
      this._users = users;
      this._groups = groups;
      this._loaded = true;
    });
    if (ok) {
      this._notice = typeof notice === 'function' ? notice() : notice;
      this.emitChanged();
    }
    return ok;
  }

  private _groups: IAdminGroup[] = [];
  private _loaded = false;
  private _notice: string | null = null;
  private _trans: TranslationBundle;
  private _users: IAdminUser[] = [];
}

/**
 * What a transfer moved, in a sentence: "Moved to alice: experiments 2,
 * datasets 1." (or "Nothing to move to alice.").
 */
export function describeMoved(
  moved: Record<string, number>,
  to: string,
  trans: TranslationBundle
): string {
  const parts = Object.entries(moved)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`);
  return parts.length === 0
    ? trans.__('Nothing to move to %1.', to)
    : trans.__('Moved to %1: %2.', to, parts.join(', '));
}

/**
 * A namespace for AdminModel statics.
 */
export namespace AdminModel {
  export interface IOptions {
    client?: AdminClient;
    serverSettings?: ServerConnection.ISettings;
    translator?: ITranslator;
  }
}
