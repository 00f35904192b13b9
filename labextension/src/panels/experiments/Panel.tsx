import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Button, shareIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { formatLocalTime } from '../../common/format';
import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import type { ExperimentsModel } from './model';
import type { IExperiment } from '../../common/experiments/types';
import { LoadState } from '../../common/loadState';

/**
 * How long the search waits for typing to pause, in ms.
 */
export const SEARCH_DELAY_MS = 300;

/**
 * The Experiments panel of the sidebar: the experiments the user may see,
 * last updated first; one opens its runs in the main area.
 */
export class ExperimentsPanel extends LazyPanel {
  constructor(options: ExperimentsPanel.IOptions) {
    super();
    this.model = options.model;
    this._open = options.open;
    this._share = options.share;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-experiments';
    this.addClass('jp-Labworks-ExperimentsPanel');
    this.title.label = this._trans.__('Experiments');
    this.title.caption = this._trans.__('Tracked experiments and their runs');
    this.watch(this.model);
  }

  readonly model: ExperimentsModel;

  protected render(): JSX.Element {
    return (
      <ExperimentsView
        model={this.model}
        open={this._open}
        share={this._share}
        trans={this._trans}
      />
    );
  }

  protected onVisible(): void {
    loadOnce(this.model);
  }

  private _open: (experiment: IExperiment) => void;
  private _share: (experiment: IExperiment) => void;
  private _trans: TranslationBundle;
}

/**
 * A namespace for ExperimentsPanel statics.
 */
export namespace ExperimentsPanel {
  /**
   * Options to create an ExperimentsPanel.
   */
  export interface IOptions {
    model: ExperimentsModel;
    /** Open an experiment's runs. */
    open(experiment: IExperiment): void;
    /** Show who may read an experiment; its owner may change it. */
    share(experiment: IExperiment): void;
    translator?: ITranslator;
  }
}

/**
 * Props of the experiments list.
 */
export interface IExperimentsViewProps {
  model: ExperimentsModel;
  open(experiment: IExperiment): void;
  share(experiment: IExperiment): void;
  trans: TranslationBundle;
}

/**
 * The experiments list for the model's current state.
 */
export function ExperimentsView(props: IExperimentsViewProps): JSX.Element {
  const { model, trans } = props;
  const [search, setSearch] = useState(model.search);
  useEffect(() => {
    if (search === model.search) {
      return;
    }
    const timer = setTimeout(
      () => void model.setSearch(search),
      SEARCH_DELAY_MS
    );
    return () => clearTimeout(timer);
  }, [search]);
  return (
    <div
      className="jp-Labworks-experiments"
      data-testid="labworks-experiments-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <input
          type="search"
          className="jp-mod-styled jp-Labworks-experimentSearch"
          aria-label={trans.__('Search experiments by name')}
          placeholder={trans.__('Search experiments')}
          value={search}
          onChange={e => setSearch(e.target.value)}
        />
        <RefreshButton
          label={trans.__('Refresh the experiments')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
      </div>
      <LoadState model={model} loading={trans.__('Loading the experiments…')} />
      {model.loaded && model.experiments.length === 0 && (
        <p className="jp-Labworks-empty">
          {model.search
            ? trans.__('No experiment matches “%1”.', model.search)
            : trans.__(
                'No experiments yet. In a notebook, `import mlflow` and log a metric: the run appears here.'
              )}
        </p>
      )}
      <ul
        className="jp-Labworks-experimentList"
        aria-label={trans.__('Experiments')}
      >
        {model.experiments.map(experiment => (
          <li key={experiment.experiment_id}>
            <button
              className="jp-Labworks-experimentItem"
              data-testid={`labworks-experiment-${experiment.experiment_id}`}
              title={trans.__('Open the runs of %1', experiment.name)}
              onClick={() => props.open(experiment)}
            >
              <span className="jp-Labworks-experimentName">
                {experiment.name}
              </span>
              {experiment.last_update_time ? (
                <span className="jp-Labworks-hint">
                  {trans.__(
                    'updated %1',
                    formatLocalTime(experiment.last_update_time)
                  )}
                </span>
              ) : null}
            </button>
            <button
              className="jp-Labworks-experimentShare"
              data-testid={`labworks-experiment-share-${experiment.experiment_id}`}
              title={trans.__('Who may read %1', experiment.name)}
              aria-label={trans.__('Share')}
              onClick={() => props.share(experiment)}
            >
              <shareIcon.react tag="span" />
            </button>
          </li>
        ))}
      </ul>
      {model.hasMore && (
        <Button
          className="jp-Labworks-button"
          small
          minimal
          disabled={model.busy}
          onClick={() => void model.loadMore()}
        >
          {trans.__('Show more experiments')}
        </Button>
      )}
    </div>
  );
}
