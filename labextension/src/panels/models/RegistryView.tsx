import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { formatTime } from '../../common/format';
import {
  aliasProblem,
  describeEvent,
  lineageFacts,
  type RegistryModel
} from './registry';
import { TASKS, type IVersionDetail, type Task } from './types';
import type { IModelsViewProps } from './viewProps';
import { LoadState } from '../../common/loadState';

type Props = IModelsViewProps & { registry: RegistryModel };

/**
 * One registered model: its versions (task, aliases, Serve), the version
 * shown in detail (task, editable by the owner; lineage with a link to its
 * run; the owner's alias form) and the history of who moved what.
 */
export function RegistryView(props: Props): JSX.Element {
  const { model, registry, actions, trans } = props;
  const registered = model.models.find(m => m.name === registry.name);
  const shown = registry.shown;
  return (
    <section
      className="jp-Labworks-deployment"
      data-testid="labworks-registry-detail"
      aria-label={registry.name}
    >
      <div className="jp-Labworks-deploymentHeader">
        <Button
          minimal
          small
          title={trans.__('Back to the models')}
          onClick={() => void model.open(null)}
        >
          {trans.__('← Models')}
        </Button>
        <h3 className="jp-Labworks-sectionTitle" title={registry.name}>
          {registry.name}
        </h3>
      </div>
      <LoadState model={registry} loading={trans.__('Loading…')} />
      <ul
        className="jp-Labworks-modelVersions jp-Labworks-registryVersions"
        aria-label={trans.__('Versions')}
      >
        {registry.versions.map(v => (
          <li
            key={v.version}
            data-testid={`labworks-registry-v${v.version}`}
            aria-current={shown?.version === v.version}
          >
            <Button
              minimal
              small
              title={trans.__('Show version %1', v.version)}
              onClick={() => void registry.show(v.version)}
            >
              {trans.__('Version %1', v.version)}
            </Button>
            <span className="jp-Labworks-fieldHint">{v.task ?? ''}</span>
            {v.aliases.map(alias => (
              <code key={alias}>{`@${alias}`}</code>
            ))}
            {registered && (
              <Button
                small
                title={trans.__(
                  'Serve version %1 of %2 at an endpoint',
                  v.version,
                  registry.name
                )}
                onClick={() => void actions.serve(registered, v.version)}
              >
                {trans.__('Serve')}
              </Button>
            )}
          </li>
        ))}
      </ul>
      {shown && <VersionDetail key={shown.version} {...props} shown={shown} />}
      <History {...props} />
    </section>
  );
}

/**
 * The version shown: its task, lineage, aliases and the owner's forms.
 */
function VersionDetail(props: Props & { shown: IVersionDetail }): JSX.Element {
  const { registry, shown: v, actions, trans } = props;
  return (
    <section
      aria-label={trans.__('Version %1', v.version)}
      data-testid="labworks-registry-version"
    >
      <h4 className="jp-Labworks-sectionTitle">
        {trans.__('Version %1', v.version)}
      </h4>
      <dl className="jp-Labworks-deploymentFacts">
        <dt>{trans.__('Task')}</dt>
        <dd data-testid="labworks-registry-task">
          {v.task === null
            ? trans.__('unknown: its signature and flavour do not tell')
            : v.task_inferred
              ? trans.__('%1 (inferred from its signature)', v.task)
              : v.task}
        </dd>
        <dt>{trans.__('Aliases')}</dt>
        <dd data-testid="labworks-registry-aliases">
          {v.aliases.length === 0
            ? trans.__('none')
            : v.aliases.map(alias => (
                <code key={alias}>
                  {`@${alias}`}
                  {v.editable && (
                    <Button
                      minimal
                      small
                      title={trans.__('Remove alias %1', alias)}
                      aria-label={trans.__('Remove alias %1', alias)}
                      disabled={registry.busy}
                      onClick={() => void registry.deleteAlias(alias, '')}
                    >
                      ×
                    </Button>
                  )}
                </code>
              ))}
        </dd>
        {v.lineage && (
          <>
            <dt>{trans.__('Run')}</dt>
            <dd>
              {v.lineage.readable ? (
                <Button
                  minimal
                  small
                  title={trans.__('Open the run in the Experiments panel')}
                  onClick={() => actions.openRun(v.lineage!.run_id)}
                >
                  {v.lineage.run_name || v.lineage.run_id.slice(0, 12)}
                </Button>
              ) : (
                <span
                  title={trans.__(
                    'You may not read this run: its lineage is its owner’s'
                  )}
                >
                  {v.lineage.run_id.slice(0, 12)}
                </span>
              )}
            </dd>
            {lineageFacts(v.lineage, trans).map(fact => (
              <React.Fragment key={fact.label}>
                <dt>{fact.label}</dt>
                <dd className="jp-Labworks-lineageFact">{fact.value}</dd>
              </React.Fragment>
            ))}
          </>
        )}
      </dl>
      {v.editable && (
        <>
          <TaskForm {...props} />
          <AliasForm {...props} />
        </>
      )}
    </section>
  );
}

/**
 * The owner's task form: a task type and why.
 */
function TaskForm(props: Props & { shown: IVersionDetail }): JSX.Element {
  const { registry, shown: v, trans } = props;
  const [task, setTask] = useState<Task>(v.task ?? 'classification');
  const [reason, setReason] = useState('');
  const same = v.task === task && !v.task_inferred;
  return (
    <form
      className="jp-Labworks-canary"
      aria-label={trans.__('Task type')}
      onSubmit={e => {
        e.preventDefault();
        void registry.setTask(task, reason).then(ok => ok && setReason(''));
      }}
    >
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Task type')}</span>
        <select
          className="jp-mod-styled"
          value={task}
          onChange={e => setTask(e.target.value as Task)}
        >
          {TASKS.map(t => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <ReasonField reason={reason} setReason={setReason} trans={trans} />
      <Button type="submit" small disabled={registry.busy || same}>
        {trans.__('Set task')}
      </Button>
    </form>
  );
}

/**
 * The owner's alias form: an alias (new or moved) onto the shown version.
 */
function AliasForm(props: Props & { shown: IVersionDetail }): JSX.Element {
  const { registry, shown: v, trans } = props;
  const [alias, setAlias] = useState('');
  const [reason, setReason] = useState('');
  const problem = alias === '' ? null : aliasProblem(alias, trans);
  return (
    <form
      className="jp-Labworks-canary"
      aria-label={trans.__('Alias')}
      onSubmit={e => {
        e.preventDefault();
        void registry.setAlias(alias, v.version, reason).then(ok => {
          if (ok) {
            setAlias('');
            setReason('');
          }
        });
      }}
    >
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Alias')}</span>
        <input
          className="jp-mod-styled"
          list="labworks-alias-names"
          placeholder={trans.__('production')}
          value={alias}
          onChange={e => setAlias(e.target.value.trim())}
        />
      </label>
      <datalist id="labworks-alias-names">
        <option value="staging" />
        <option value="production" />
      </datalist>
      {problem && <p className="jp-Labworks-errorText">{problem}</p>}
      <ReasonField reason={reason} setReason={setReason} trans={trans} />
      <Button
        type="submit"
        small
        disabled={registry.busy || alias === '' || problem !== null}
        title={trans.__('Point the alias at version %1', v.version)}
      >
        {trans.__('Set alias on v%1', v.version)}
      </Button>
    </form>
  );
}

function ReasonField(props: {
  reason: string;
  setReason: (reason: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { reason, setReason, trans } = props;
  return (
    <label className="jp-Labworks-serveField">
      <span>{trans.__('Reason')}</span>
      <input
        className="jp-mod-styled"
        value={reason}
        maxLength={1000}
        placeholder={trans.__('kept in the history')}
        onChange={e => setReason(e.target.value)}
      />
    </label>
  );
}

/**
 * The model's changes, newest first: when, who, what and why.
 */
function History(props: Props): JSX.Element {
  const { registry, trans } = props;
  return (
    <section aria-label={trans.__('History')}>
      <h4 className="jp-Labworks-sectionTitle">{trans.__('History')}</h4>
      {registry.loaded && registry.history.length === 0 && (
        <p className="jp-Labworks-hint">{trans.__('No changes recorded.')}</p>
      )}
      <ul
        className="jp-Labworks-deploymentHistory"
        data-testid="labworks-registry-history"
      >
        {registry.history.map((e, i) => (
          <li key={i}>
            <span className="jp-Labworks-fieldHint">{formatTime(e.at)}</span>{' '}
            <strong>{e.actor}</strong> {describeEvent(e, trans)}
            {e.reason && <em>{` — ${e.reason}`}</em>}
          </li>
        ))}
      </ul>
    </section>
  );
}
