import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, closeIcon } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { formatBytes, formatTime } from '../../common/format';
import type { IAudit, ISource } from './sourcesClient';
import type { SourcesModel } from './sourcesModel';

/**
 * How many of the latest accesses the usage shows.
 */
export const RECENT_ENTRIES = 20;

/**
 * What the owner of a source (or an administrator) sees of it: pending
 * requests to grant, its grants to add or remove, and its usage.
 */
export function SourceManagement(props: {
  model: SourcesModel;
  source: ISource;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, source, trans } = props;
  const management = model.management;
  const requests = model.requestsToAnswer(source);
  return (
    <div
      className="jp-Labworks-sourceManagement"
      data-testid="labworks-source-management"
    >
      <h3 className="jp-Labworks-sectionTitle">
        {trans.__('Pending requests')}
      </h3>
      {requests.length === 0 && (
        <p className="jp-Labworks-empty">{trans.__('No pending request.')}</p>
      )}
      <ul className="jp-Labworks-sourceRows">
        {requests.map(request => (
          <li
            key={request.id}
            data-testid={`labworks-source-request-${request.user}`}
          >
            <span>
              {trans.__('%1 asks for %2', request.user, request.access)}
              {request.reason && (
                <span className="jp-Labworks-hint"> — {request.reason}</span>
              )}
            </span>
            <Button
              className="jp-Labworks-button"
              small
              disabled={model.busy}
              data-testid={`labworks-source-request-grant-${request.user}`}
              onClick={() => void model.answer(request)}
            >
              {trans.__('Grant')}
            </Button>
          </li>
        ))}
      </ul>
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Grants')}</h3>
      {management === null ? (
        <p className="jp-Labworks-loading">{trans.__('Loading…')}</p>
      ) : (
        <>
          {management.grants.length === 0 && (
            <p className="jp-Labworks-empty">
              {trans.__('Only you and administrators may read it.')}
            </p>
          )}
          <ul className="jp-Labworks-sourceRows">
            {management.grants.map(grant => (
              <li
                key={grant.principal}
                data-testid={`labworks-source-grant-${grant.principal}`}
              >
                <span>
                  {grant.principal}{' '}
                  <span className="jp-Labworks-hint">
                    {grant.access === 'write'
                      ? trans.__('read and write')
                      : trans.__('read')}
                  </span>
                </span>
                <button
                  className="jp-Labworks-sourceRemove"
                  data-testid={`labworks-source-grant-remove-${grant.principal}`}
                  title={trans.__('Remove the grant of %1', grant.principal)}
                  aria-label={trans.__('Remove')}
                  disabled={model.busy}
                  onClick={() => void model.revoke(grant.principal)}
                >
                  <closeIcon.react tag="span" />
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <GrantForm model={model} trans={trans} />
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Usage')}</h3>
      {management !== null && <Usage audit={management.audit} trans={trans} />}
    </div>
  );
}

/**
 * Grant a user or a group read or write access.
 */
function GrantForm(props: {
  model: SourcesModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [kind, setKind] = useState<'user' | 'group'>('user');
  const [name, setName] = useState('');
  const [access, setAccess] = useState<'read' | 'write'>('read');
  return (
    <form
      className="jp-Labworks-sourceGrantForm"
      aria-label={trans.__('Grant access')}
      onSubmit={e => {
        e.preventDefault();
        void model
          .grant(`${kind}:${name.trim()}`, access)
          .then(ok => ok && setName(''));
      }}
    >
      <select
        className="jp-mod-styled"
        aria-label={trans.__('User or group')}
        data-testid="labworks-source-grant-kind"
        value={kind}
        onChange={e => setKind(e.target.value as 'user' | 'group')}
      >
        <option value="user">{trans.__('user')}</option>
        <option value="group">{trans.__('group')}</option>
      </select>
      <input
        className="jp-mod-styled"
        aria-label={trans.__('Name')}
        placeholder={trans.__('name')}
        data-testid="labworks-source-grant-name"
        value={name}
        onChange={e => setName(e.target.value)}
      />
      <select
        className="jp-mod-styled"
        aria-label={trans.__('Access')}
        data-testid="labworks-source-grant-access"
        value={access}
        onChange={e => setAccess(e.target.value as 'read' | 'write')}
      >
        <option value="read">{trans.__('read')}</option>
        <option value="write">{trans.__('read and write')}</option>
      </select>
      <Button
        className="jp-Labworks-button"
        small
        type="submit"
        disabled={model.busy || name.trim() === ''}
        data-testid="labworks-source-grant-add"
      >
        {trans.__('Grant')}
      </Button>
    </form>
  );
}

/**
 * Who read the source and what: by user, by object, and the latest accesses.
 */
function Usage(props: { audit: IAudit; trans: TranslationBundle }) {
  const { audit, trans } = props;
  if (audit.entries.length === 0) {
    return <p className="jp-Labworks-empty">{trans.__('No access yet.')}</p>;
  }
  return (
    <div data-testid="labworks-source-usage">
      <table className="jp-Labworks-sourceTable">
        <caption>{trans.__('By user')}</caption>
        <thead>
          <tr>
            <th>{trans.__('User')}</th>
            <th>{trans.__('Reads')}</th>
            <th>{trans.__('Bytes')}</th>
            <th>{trans.__('Rows')}</th>
            <th>{trans.__('Refused')}</th>
          </tr>
        </thead>
        <tbody>
          {audit.by_user.map(row => (
            <tr key={row.user}>
              <td>{row.user}</td>
              <td>{row.reads}</td>
              <td>{formatBytes(row.bytes)}</td>
              <td>{row.rows}</td>
              <td>{row.refused}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="jp-Labworks-sourceTable">
        <caption>{trans.__('By object')}</caption>
        <thead>
          <tr>
            <th>{trans.__('Object')}</th>
            <th>{trans.__('Reads')}</th>
            <th>{trans.__('Bytes')}</th>
            <th>{trans.__('Rows')}</th>
          </tr>
        </thead>
        <tbody>
          {audit.by_object.map(row => (
            <tr key={row.object}>
              <td>{row.object}</td>
              <td>{row.reads}</td>
              <td>{formatBytes(row.bytes)}</td>
              <td>{row.rows}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="jp-Labworks-sourceTable">
        <caption>{trans.__('Latest accesses')}</caption>
        <tbody>
          {audit.entries.slice(0, RECENT_ENTRIES).map((entry, i) => (
            <tr
              key={i}
              className={entry.allowed ? undefined : 'jp-mod-refused'}
              title={entry.origin ?? undefined}
            >
              <td>{formatTime(entry.at)}</td>
              <td>{entry.user}</td>
              <td>{entry.action}</td>
              <td>{entry.object}</td>
              <td>
                {entry.allowed
                  ? entry.rows !== null
                    ? trans._n('%1 row', '%1 rows', entry.rows)
                    : formatBytes(entry.bytes ?? 0)
                  : trans.__('refused: %1', entry.reason ?? '')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
