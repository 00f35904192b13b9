import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { describeVisibility } from '../../common/visibility';
import { formatTime } from '../../common/format';
import { TryIt } from './TryIt';
import type { DeploymentStatus, IDeploymentDetail, IServer } from './types';
import type { IModelsViewProps } from './viewProps';

type Props = IModelsViewProps & { deployment: IDeploymentDetail };

/**
 * A deployment's status, as a badge coloured by CSS.
 */
export function StatusBadge(props: {
  status: DeploymentStatus;
  trans: TranslationBundle;
}): JSX.Element {
  const { status, trans } = props;
  const labels: Record<DeploymentStatus, string> = {
    starting: trans.__('starting'),
    ready: trans.__('ready'),
    failed: trans.__('failed'),
    stopped: trans.__('stopped')
  };
  return (
    <span className={`jp-Labworks-deploymentStatus jp-mod-${status}`}>
      {labels[status] ?? status}
    </span>
  );
}

/**
 * One deployment: its status (with the reason), versions and split, URL,
 * what its owner may do, Try it, its servers' live traffic, the canary form
 * and the changes made to it.
 */
export function DeploymentView(props: Props): JSX.Element {
  const { model, deployment: d, actions, trans } = props;
  const [trying, setTrying] = useState(false);
  const owner = actions.user === null || d.owner === actions.user;
  return (
    <section
      className="jp-Labworks-deployment"
      data-testid="labworks-deployment-detail"
      aria-label={d.name}
    >
      <div className="jp-Labworks-deploymentHeader">
        <Button
          minimal
          small
          title={trans.__('Back to the models')}
          onClick={() => void model.select(null)}
        >
          {trans.__('← Models')}
        </Button>
        <h3 className="jp-Labworks-sectionTitle" title={d.name}>
          {d.name}
        </h3>
        <StatusBadge status={d.status} trans={trans} />
      </div>
      {d.reason && (
        <p
          className={`jp-Labworks-deploymentReason jp-mod-${d.status}`}
          role="status"
        >
          {d.reason}
        </p>
      )}
      <dl className="jp-Labworks-deploymentFacts">
        <dt>{trans.__('Model')}</dt>
        <dd>{trans.__('%1, %2', d.model, d.task)}</dd>
        <dt>{trans.__('Stable')}</dt>
        <dd data-testid="labworks-deployment-stable">
          {trans.__('version %1 (%2%)', d.version, 100 - d.canary_percent)}
        </dd>
        <dt>{trans.__('Canary')}</dt>
        <dd data-testid="labworks-deployment-canary">
          {d.canary_version
            ? trans.__('version %1 (%2%)', d.canary_version, d.canary_percent)
            : trans.__('none')}
        </dd>
        <dt>{trans.__('Who')}</dt>
        <dd>
          {trans.__('%1; %2', d.owner, describeVisibility(d.visibility, trans))}
        </dd>
        <dt>{trans.__('URL')}</dt>
        <dd className="jp-Labworks-deploymentUrl">
          <code data-testid="labworks-deployment-url">{d.url}</code>
          <Button
            minimal
            small
            title={trans.__('Copy the inference URL')}
            onClick={() => actions.copy(d.url)}
          >
            {trans.__('Copy')}
          </Button>
        </dd>
      </dl>
      <div className="jp-Labworks-deploymentActions">
        <Button small aria-expanded={trying} onClick={() => setTrying(!trying)}>
          {trying ? trans.__('Hide Try it') : trans.__('Try it')}
        </Button>
        {owner && (
          <>
            <Button
              small
              disabled={model.busy}
              onClick={() => void actions.share(d)}
            >
              {trans.__('Share…')}
            </Button>
            <Button
              small
              disabled={model.busy}
              title={trans.__('Stop serving: the endpoint stops answering now')}
              onClick={() =>
                void actions.confirmUndeploy(d).then(yes => {
                  if (yes) {
                    void model.undeploy();
                  }
                })
              }
            >
              {trans.__('Undeploy…')}
            </Button>
          </>
        )}
      </div>
      {trying && (
        <TryIt client={model.client} endpoint={d.name} trans={trans} />
      )}
      <Servers servers={d.servers} trans={trans} />
      {owner && (
        // A new split (set, promoted) starts the form again from it.
        <CanaryForm
          key={`${d.version}-${d.canary_version}-${d.canary_percent}`}
          {...props}
        />
      )}
      <History {...props} />
    </section>
  );
}

function figure(value: number | null, unit = ''): string {
  return value === null || value === undefined ? '–' : `${value}${unit}`;
}

/**
 * Each model server: version, role, status, and its live request rate,
 * median latency and errors (a block each: the side bar is narrow).
 */
function Servers(props: {
  servers: IServer[];
  trans: TranslationBundle;
}): JSX.Element {
  const { servers, trans } = props;
  return (
    <ul
      className="jp-Labworks-servers"
      aria-label={trans.__('Servers')}
      data-testid="labworks-deployment-servers"
    >
      {servers.map(s => (
        <li
          key={`${s.role}-${s.version}`}
          data-testid={`labworks-server-${s.version}`}
        >
          <div>
            <strong>{trans.__('v%1 %2', s.version, s.role)}</strong> {s.status}
            {s.restarts > 0 && ` (${trans.__('%1 restarts', s.restarts)})`}
          </div>
          <div className="jp-Labworks-serverFigures">
            <span title={trans.__('Requests per second over the last minute')}>
              {trans.__('%1 req/s', figure(s.traffic.rate_per_second))}
            </span>
            <span title={trans.__('Median latency over the last minute')}>
              {trans.__('p50 %1', figure(s.traffic.p50_ms, ' ms'))}
            </span>
            <span
              title={trans.__('Errors out of requests since it started')}
              data-testid="labworks-server-errors"
            >
              {trans.__(
                '%1 errors of %2 requests',
                s.traffic.errors,
                s.traffic.requests
              )}
            </span>
          </div>
          {s.reason && <div className="jp-Labworks-fieldHint">{s.reason}</div>}
        </li>
      ))}
    </ul>
  );
}

/**
 * The owner's canary: a version and its share of requests, with why; and
 * Promote, which makes the canary the stable version.
 */
function CanaryForm(props: Props): JSX.Element {
  const { model, deployment: d, trans } = props;
  const [version, setVersion] = useState(d.canary_version ?? '');
  const [percent, setPercent] = useState(String(d.canary_percent || 10));
  const [reason, setReason] = useState('');
  const share = Number(percent);
  const valid =
    (version === '' || /^[0-9]{1,9}$/.test(version)) &&
    Number.isInteger(share) &&
    share >= 0 &&
    share <= 100;
  return (
    <form
      className="jp-Labworks-canary"
      aria-label={trans.__('Canary')}
      onSubmit={e => {
        e.preventDefault();
        void model.traffic({
          canary_version: version === '' ? null : version,
          percent: version === '' ? 0 : share,
          reason
        });
      }}
    >
      <h4 className="jp-Labworks-sectionTitle">{trans.__('Canary')}</h4>
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Version')}</span>
        <input
          className="jp-mod-styled"
          size={4}
          placeholder={trans.__('none')}
          value={version}
          onChange={e => setVersion(e.target.value.trim())}
        />
      </label>
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Percent')}</span>
        <input
          className="jp-mod-styled"
          type="number"
          min={0}
          max={100}
          value={percent}
          onChange={e => setPercent(e.target.value)}
        />
      </label>
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Reason')}</span>
        <input
          className="jp-mod-styled"
          value={reason}
          placeholder={trans.__('kept with the change')}
          onChange={e => setReason(e.target.value)}
        />
      </label>
      <div className="jp-Labworks-deploymentActions">
        <Button
          type="submit"
          small
          disabled={
            model.busy || !valid || (version === '' && !d.canary_version)
          }
        >
          {version === '' ? trans.__('No canary') : trans.__('Set traffic')}
        </Button>
        <Button
          type="button"
          small
          disabled={model.busy || !d.canary_version}
          title={trans.__(
            'Make the canary the stable version, with every request'
          )}
          onClick={() => void model.promote(reason)}
        >
          {trans.__('Promote')}
        </Button>
      </div>
    </form>
  );
}

/**
 * Every change, newest first (as the platform sends them): when, who,
 * what and why.
 */
function History(props: Props): JSX.Element {
  const { deployment: d, trans } = props;
  return (
    <section aria-label={trans.__('History')}>
      <h4 className="jp-Labworks-sectionTitle">{trans.__('History')}</h4>
      <ul
        className="jp-Labworks-deploymentHistory"
        data-testid="labworks-deployment-history"
      >
        {d.events.map((e, i) => (
          <li key={i}>
            <span className="jp-Labworks-fieldHint">{formatTime(e.at)}</span>{' '}
            <strong>{e.actor}</strong> {e.action}
            {Object.keys(e.detail ?? {}).length > 0 && (
              <code>
                {' '}
                {Object.entries(e.detail)
                  .map(([k, v]) => `${k}=${String(v)}`)
                  .join(' ')}
              </code>
            )}
            {e.reason && <em>{` — ${e.reason}`}</em>}
          </li>
        ))}
      </ul>
    </section>
  );
}
