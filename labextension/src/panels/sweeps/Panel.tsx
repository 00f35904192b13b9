import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import React from 'react';

import { formatTime } from '../../common/format';
import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import {
  costText,
  etaText,
  formatValue,
  progressText,
  StatusBadge
} from './labels';
import type { SweepsModel } from './model';
import { SweepDetailView } from './SweepDetail';
import type { ISweepActions, ISweepsViewProps } from './viewProps';
import { ErrorAlert } from '../../common/loadState';

/**
 * The Sweeps panel: the sweeps one can see with their progress, and one
 * sweep in detail with its trials and plots. It polls while a sweep runs.
 */
export class SweepsPanel extends LazyPanel {
  constructor(options: SweepsPanel.IOptions) {
    super();
    this.model = options.model;
    this._actions = options.actions;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-sweeps';
    this.addClass('jp-Labworks-SweepsPanel');
    this.title.label = this._trans.__('Sweeps');
    this.title.caption = this._trans.__(
      'Hyperparameter sweeps of notebook parameters'
    );
    this.watch(this.model);
  }

  readonly model: SweepsModel;

  protected render(): JSX.Element {
    return (
      <SweepsView
        model={this.model}
        actions={this._actions}
        trans={this._trans}
      />
    );
  }

  protected onVisible(): void {
    loadOnce(this.model);
  }

  private _actions: ISweepActions;
  private _trans: TranslationBundle;
}

/**
 * A namespace for SweepsPanel statics.
 */
export namespace SweepsPanel {
  export interface IOptions {
    model: SweepsModel;
    actions: ISweepActions;
    translator?: ITranslator;
  }
}

/**
 * The panel's content: the list, or the sweep shown.
 */
export function SweepsView(props: ISweepsViewProps): JSX.Element {
  const { model, trans } = props;
  return (
    <div
      className="jp-Labworks-sweeps"
      data-testid="labworks-sweeps-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh sweeps')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
      </div>
      <ErrorAlert error={model.error} />
      {model.selected !== null ? (
        <SweepDetailView
          key={model.selected.id}
          {...props}
          sweep={model.selected}
        />
      ) : (
        <SweepList {...props} />
      )}
    </div>
  );
}

/**
 * The sweeps, newest first: name, status, progress, best value, time left.
 */
function SweepList(props: ISweepsViewProps): JSX.Element {
  const { model, trans } = props;
  if (!model.loaded) {
    return model.error === null ? (
      <p className="jp-Labworks-loading">{trans.__('Loading…')}</p>
    ) : (
      <></>
    );
  }
  if (model.sweeps.length === 0) {
    return (
      <p className="jp-Labworks-hint">
        {trans.__(
          'No sweeps yet. Open a notebook with a “parameters” cell and press Sweep in its toolbar.'
        )}
      </p>
    );
  }
  return (
    <table className="jp-Labworks-sweepTable" aria-label={trans.__('Sweeps')}>
      <thead>
        <tr>
          <th>{trans.__('Name')}</th>
          <th>{trans.__('Status')}</th>
          <th>{trans.__('Trials')}</th>
          <th>{trans.__('Best')}</th>
          <th>{trans.__('Left')}</th>
          {model.costs !== null && <th>{trans.__('Cost')}</th>}
        </tr>
      </thead>
      <tbody>
        {model.sweeps.map(sweep => (
          <tr
            key={sweep.id}
            className="jp-Labworks-sweepRow"
            data-testid={`labworks-sweep-${sweep.id}`}
            tabIndex={0}
            title={trans.__(
              '%1 of %2, started %3',
              sweep.metric,
              sweep.owner,
              formatTime(sweep.created_at)
            )}
            onClick={() => void model.select(sweep.id)}
            onKeyDown={e => {
              if (e.key === 'Enter') {
                void model.select(sweep.id);
              }
            }}
          >
            <td>{sweep.name}</td>
            <td className="jp-Labworks-sweepNowrap">
              <StatusBadge status={sweep.status} trans={trans} />
            </td>
            <td className="jp-Labworks-sweepNowrap">{progressText(sweep)}</td>
            <td className="jp-Labworks-sweepNowrap">
              {formatValue(sweep.best_value)}
            </td>
            <td className="jp-Labworks-sweepNowrap">{etaText(sweep, trans)}</td>
            {model.costs !== null && (
              <td className="jp-Labworks-sweepNowrap">
                {costText(model.costs, sweep.id)}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
