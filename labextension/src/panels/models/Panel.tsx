import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React from 'react';

import { formatTime } from '../../common/format';
import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import { DeploymentView, StatusBadge } from './DeploymentView';
import type { ModelsModel } from './model';
import { RegistryView } from './RegistryView';
import type { IModelsActions, IModelsViewProps } from './viewProps';
import { ErrorAlert } from '../../common/loadState';

/**
 * The Models panel: the registered models one can read, each version with
 * "Serve"; the deployments one can call; one deployment in detail with its
 * servers' live traffic, its changes, its canary and "Try it"; and one
 * registered model in detail with its versions' tasks, aliases, lineage and
 * history. It polls the deployments while shown.
 */
export class ModelsPanel extends LazyPanel {
  constructor(options: ModelsPanel.IOptions) {
    super();
    this.model = options.model;
    this._actions = options.actions;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-models';
    this.addClass('jp-Labworks-ModelsPanel');
    this.title.label = this._trans.__('Models');
    this.title.caption = this._trans.__(
      'Registered models and their served endpoints'
    );
    this.watch(this.model);
  }

  readonly model: ModelsModel;

  protected render(): JSX.Element {
    return (
      <ModelsView
        model={this.model}
        actions={this._actions}
        trans={this._trans}
      />
    );
  }

  protected onVisible(): void {
    loadOnce(this.model);
    this.model.watch(true);
  }

  protected onHidden(): void {
    this.model.watch(false);
  }

  private _actions: IModelsActions;
  private _trans: TranslationBundle;
}

/**
 * A namespace for ModelsPanel statics.
 */
export namespace ModelsPanel {
  export interface IOptions {
    model: ModelsModel;
    actions: IModelsActions;
    translator?: ITranslator;
  }
}

/**
 * The panel's content: the lists, or the deployment shown.
 */
export function ModelsView(props: IModelsViewProps): JSX.Element {
  const { model, trans } = props;
  return (
    <div
      className="jp-Labworks-models"
      data-testid="labworks-models-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh models')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
      </div>
      <ErrorAlert error={model.error} />
      {model.selected !== null ? (
        <DeploymentView
          key={model.selected.name}
          {...props}
          deployment={model.selected}
        />
      ) : model.opened !== null ? (
        <RegistryView
          key={model.opened.name}
          {...props}
          registry={model.opened}
        />
      ) : !model.loaded ? (
        model.error === null && (
          <p className="jp-Labworks-loading">{trans.__('Loading…')}</p>
        )
      ) : (
        <>
          <Deployments {...props} />
          <Models {...props} />
        </>
      )}
    </div>
  );
}

/**
 * The deployments one can call: endpoint, model and versions, status.
 */
function Deployments(props: IModelsViewProps): JSX.Element {
  const { model, trans } = props;
  return (
    <section aria-label={trans.__('Deployments')}>
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Deployments')}</h3>
      {model.deployments.length === 0 ? (
        <p className="jp-Labworks-hint">
          {trans.__('Nothing served yet: press Serve on a model’s version.')}
        </p>
      ) : (
        <table className="jp-Labworks-modelsTable">
          <thead>
            <tr>
              <th>{trans.__('Endpoint')}</th>
              <th>{trans.__('Model')}</th>
              <th>{trans.__('Status')}</th>
            </tr>
          </thead>
          <tbody>
            {model.deployments.map(d => (
              <tr
                key={d.name}
                className="jp-Labworks-modelsRow"
                data-testid={`labworks-deployment-${d.name}`}
                tabIndex={0}
                title={d.reason || trans.__('Served by %1', d.owner)}
                onClick={() => void model.select(d.name)}
                onKeyDown={e => {
                  if (e.key === 'Enter') {
                    void model.select(d.name);
                  }
                }}
              >
                <td>{d.name}</td>
                <td>
                  {d.canary_version
                    ? trans.__(
                        '%1 v%2 (canary v%3, %4%)',
                        d.model,
                        d.version,
                        d.canary_version,
                        d.canary_percent
                      )
                    : trans.__('%1 v%2', d.model, d.version)}
                </td>
                <td className="jp-Labworks-modelsNowrap">
                  <StatusBadge status={d.status} trans={trans} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * The registered models one can read: owner, description, aliases, and
 * each version with "Serve".
 */
function Models(props: IModelsViewProps): JSX.Element {
  const { model, actions, trans } = props;
  return (
    <section aria-label={trans.__('Registered models')}>
      <h3 className="jp-Labworks-sectionTitle">
        {trans.__('Registered models')}
      </h3>
      {model.models.length === 0 && (
        <p className="jp-Labworks-hint">
          {trans.__(
            'No registered models you can read. Register a run’s model from its run page in the Experiments panel.'
          )}
        </p>
      )}
      {model.models.map(m => {
        const aliases = Object.entries(m.aliases ?? {});
        return (
          <div
            key={m.name}
            className="jp-Labworks-modelCard"
            data-testid={`labworks-model-${m.name}`}
          >
            <div className="jp-Labworks-modelHeader">
              <strong>{m.name}</strong>
              <span className="jp-Labworks-fieldHint">
                {m.yours ? trans.__('yours') : (m.owner ?? '')}
              </span>
              <Button
                small
                minimal
                title={trans.__(
                  'Versions, task types, aliases, lineage and history of %1',
                  m.name
                )}
                onClick={() => void model.open(m.name)}
              >
                {trans.__('Details')}
              </Button>
            </div>
            {m.description && (
              <p className="jp-Labworks-hint">{m.description}</p>
            )}
            {aliases.length > 0 && (
              <p className="jp-Labworks-modelAliases">
                {aliases.map(([alias, version]) => (
                  <code key={alias}>{`@${alias} → v${version}`}</code>
                ))}
              </p>
            )}
            <ul className="jp-Labworks-modelVersions">
              {m.latest_versions.map(v => (
                <li
                  key={v.version}
                  data-testid={`labworks-model-${m.name}-v${v.version}`}
                >
                  <span>{trans.__('Version %1', v.version)}</span>
                  <span className="jp-Labworks-fieldHint">
                    {v.creation_time
                      ? formatTime(new Date(v.creation_time).toISOString())
                      : ''}
                  </span>
                  <Button
                    small
                    title={trans.__(
                      'Serve version %1 of %2 at an endpoint',
                      v.version,
                      m.name
                    )}
                    onClick={() => void actions.serve(m, v.version)}
                  >
                    {trans.__('Serve')}
                  </Button>
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </section>
  );
}
