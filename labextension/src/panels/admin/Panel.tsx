import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import { confirmDeleteGroup, confirmDeleteUser } from './dialogs';
import type { AdminModel } from './model';
import type { IAdminGroup, IAdminUser } from './types';
import { ErrorAlert } from '../../common/loadState';

/**
 * The Admin panel, shown to administrators only: the platform's users
 * (disable, enable, delete) and groups with their members.
 */
export class AdminPanel extends LazyPanel {
  constructor(options: AdminPanel.IOptions) {
    super();
    this.model = options.model;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this._user = options.user ?? null;
    this.id = 'labworks-admin';
    this.addClass('jp-Labworks-AdminPanel');
    this.title.label = this._trans.__('Admin');
    this.title.caption = this._trans.__('Users and groups of the platform');
    this.watch(this.model);
  }

  readonly model: AdminModel;

  protected render(): JSX.Element {
    return (
      <AdminView model={this.model} user={this._user} trans={this._trans} />
    );
  }

  protected onVisible(): void {
    loadOnce(this.model);
  }

  private _trans: TranslationBundle;
  private _user: string | null;
}

/**
 * A namespace for AdminPanel statics.
 */
export namespace AdminPanel {
  export interface IOptions {
    model: AdminModel;
    /** The administrator using the lab, who cannot disable or delete themselves here. */
    user?: string | null;
    translator?: ITranslator;
  }
}

/**
 * Props of the Admin view.
 */
export interface IAdminViewProps {
  model: AdminModel;
  user: string | null;
  trans: TranslationBundle;
}

/**
 * The content of the Admin panel for the model's current state.
 */
export function AdminView(props: IAdminViewProps): JSX.Element {
  const { model, trans } = props;
  return (
    <div
      className="jp-Labworks-admin"
      data-testid="labworks-admin-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh users and groups')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
      </div>
      <ErrorAlert error={model.error} />
      <p className="jp-Labworks-hint" role="status">
        {model.notice ?? ''}
      </p>
      {!model.loaded && model.error === null && (
        <p className="jp-Labworks-loading">{trans.__('Loading…')}</p>
      )}
      {model.loaded && (
        <>
          <Users {...props} />
          <Groups {...props} />
        </>
      )}
    </div>
  );
}

/**
 * The users: name, role, groups, state, and what may be done to each.
 */
function Users(props: IAdminViewProps): JSX.Element {
  const { model, trans } = props;
  const remove = async (user: IAdminUser) => {
    const others = model.users
      .filter(u => u.name !== user.name && !u.disabled)
      .map(u => u.name);
    const choice = await confirmDeleteUser(user, others, trans);
    if (choice !== null) {
      await model.deleteUser(user.name, choice.transferTo);
    }
  };
  return (
    <section aria-label={trans.__('Users')}>
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Users')}</h3>
      <ul className="jp-Labworks-adminList">
        {model.users.map(user => {
          const self = user.name === props.user;
          return (
            <li
              key={user.name}
              className="jp-Labworks-adminRow"
              data-testid={`labworks-admin-user-${user.name}`}
            >
              <span className="jp-Labworks-adminWho">
                <span
                  className={
                    user.disabled
                      ? 'jp-Labworks-adminName jp-mod-disabled'
                      : 'jp-Labworks-adminName'
                  }
                >
                  {user.name}
                </span>
                <span className="jp-Labworks-hint">
                  {userFacts(user, trans)}
                </span>
              </span>
              <Button
                small
                minimal
                disabled={model.busy || self}
                title={self ? trans.__('You cannot disable yourself here') : ''}
                onClick={() => void model.setEnabled(user.name, user.disabled)}
              >
                {user.disabled ? trans.__('Enable') : trans.__('Disable')}
              </Button>
              <Button
                small
                minimal
                disabled={model.busy || self}
                aria-label={trans.__('Delete %1', user.name)}
                title={
                  self
                    ? trans.__('You cannot delete yourself here')
                    : trans.__('Delete %1', user.name)
                }
                onClick={() => void remove(user)}
              >
                {trans.__('Delete')}
              </Button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/**
 * One line on a user: administrator or user, disabled, the groups.
 */
export function userFacts(user: IAdminUser, trans: TranslationBundle): string {
  return [
    user.admin ? trans.__('admin') : trans.__('user'),
    ...(user.disabled ? [trans.__('disabled')] : []),
    user.groups.length > 0
      ? trans.__('groups: %1', user.groups.join(', '))
      : trans.__('no group')
  ].join(' · ');
}

/**
 * The groups with their members; a form to create one.
 */
function Groups(props: IAdminViewProps): JSX.Element {
  const { model, trans } = props;
  const [name, setName] = useState('');
  return (
    <section aria-label={trans.__('Groups')}>
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Groups')}</h3>
      <form
        className="jp-Labworks-adminForm"
        onSubmit={e => {
          e.preventDefault();
          void model.createGroup(name).then(ok => ok && setName(''));
        }}
      >
        <input
          className="jp-mod-styled"
          aria-label={trans.__('New group name')}
          placeholder={trans.__('New group')}
          value={name}
          onChange={e => setName(e.target.value)}
        />
        <Button type="submit" small disabled={model.busy}>
          {trans.__('Create group')}
        </Button>
      </form>
      {model.groups.length === 0 && (
        <p className="jp-Labworks-empty">{trans.__('No group yet.')}</p>
      )}
      <ul className="jp-Labworks-adminList">
        {model.groups.map(group => (
          <Group key={group.name} group={group} {...props} />
        ))}
      </ul>
    </section>
  );
}

/**
 * One group: its members, each removable, and a choice of a user to add.
 */
function Group(props: IAdminViewProps & { group: IAdminGroup }): JSX.Element {
  const { model, trans, group } = props;
  const candidates = model.users
    .map(u => u.name)
    .filter(u => !group.members.includes(u));
  const [chosen, setChosen] = useState('');
  const member = candidates.includes(chosen) ? chosen : (candidates[0] ?? '');
  return (
    <li
      className="jp-Labworks-adminGroup"
      data-testid={`labworks-admin-group-${group.name}`}
    >
      <div className="jp-Labworks-adminRow">
        <span className="jp-Labworks-adminWho">
          <span className="jp-Labworks-adminName">{group.name}</span>
          <span className="jp-Labworks-hint">
            {trans._n('%1 member', '%1 members', group.members.length)}
          </span>
        </span>
        <Button
          small
          minimal
          disabled={model.busy}
          aria-label={trans.__('Delete group %1', group.name)}
          title={trans.__('Delete group %1', group.name)}
          onClick={() =>
            void confirmDeleteGroup(group, trans).then(
              yes => yes && model.deleteGroup(group.name)
            )
          }
        >
          {trans.__('Delete')}
        </Button>
      </div>
      <ul className="jp-Labworks-adminMembers" aria-label={trans.__('Members')}>
        {group.members.map(user => (
          <li key={user} className="jp-Labworks-adminMember">
            <span>{user}</span>
            <Button
              small
              minimal
              disabled={model.busy}
              aria-label={trans.__('Remove %1 from %2', user, group.name)}
              title={trans.__('Remove %1 from %2', user, group.name)}
              onClick={() => void model.removeMember(group.name, user)}
            >
              {trans.__('Remove')}
            </Button>
          </li>
        ))}
      </ul>
      {candidates.length > 0 && (
        <div className="jp-Labworks-adminForm">
          <select
            className="jp-mod-styled"
            aria-label={trans.__('User to add to %1', group.name)}
            value={member}
            onChange={e => setChosen(e.target.value)}
          >
            {candidates.map(u => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
          <Button
            small
            disabled={model.busy}
            onClick={() => void model.addMember(group.name, member)}
          >
            {trans.__('Add member')}
          </Button>
        </div>
      )}
    </li>
  );
}
