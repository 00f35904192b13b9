import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, downloadIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { RefreshButton } from '../../refreshButton';

import { describeError } from '../../requestModel';
import { ColumnChooser } from './ColumnChooser';
import { saveText } from '../../common/download';
import { MAX_COMPARE, RunsModel } from './runs';
import { RunsTable } from './RunsTable';
import type { IRun } from '../../common/experiments/types';
import { ErrorAlert } from '../../common/loadState';

/**
 * What the runs view asks the application to do.
 */
export interface IRunsActions {
  openRun(run: IRun): void;
  compare(runs: IRun[]): void;
}

/**
 * Props of the runs view.
 */
export interface IRunsViewProps {
  model: RunsModel;
  actions: IRunsActions;
  trans: TranslationBundle;
}

/**
 * An experiment's runs: the search box (MLflow's filter syntax, its errors
 * shown here), the column choice, the table, and what to do with the
 * selected runs (compare, export).
 */
export function RunsView(props: IRunsViewProps): JSX.Element {
  const { model, actions, trans } = props;
  const [search, setSearch] = useState(model.search);
  const [chooserOpen, setChooserOpen] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  useEffect(() => {
    if (!model.loaded && !model.busy && model.error === null) {
      void model.refresh();
    }
  }, []);
  const selected = model.selected.length;
  const compareSelected = async () => {
    // The table's runs carry its columns only: the comparison gets them whole.
    const runs = await model.fetchSelected();
    if (runs !== null) {
      actions.compare(runs);
    }
  };
  const exportSelected = async () => {
    try {
      const text = await model.client.exportCsv(model.selected);
      saveText(
        text,
        `runs-${model.experiment.name.replace(/\W+/g, '_')}.csv`,
        'text/csv'
      );
      setExportError(null);
    } catch (reason) {
      setExportError(describeError(reason));
    }
  };
  return (
    <div
      className="jp-Labworks-runs"
      data-testid="labworks-runs"
      aria-busy={model.busy}
    >
      <form
        className="jp-Labworks-runsSearch"
        onSubmit={e => {
          e.preventDefault();
          void model.setSearch(search);
        }}
      >
        <input
          type="search"
          className="jp-mod-styled"
          aria-label={trans.__('Filter runs with MLflow search syntax')}
          placeholder={trans.__(
            "e.g. metrics.acc > 0.9 and params.lr = '0.01' and tags.team = 'vision'"
          )}
          value={search}
          onChange={e => setSearch(e.target.value)}
        />
        <Button className="jp-Labworks-button" small type="submit">
          {trans.__('Search')}
        </Button>
      </form>
      <ErrorAlert error={model.error} testId="labworks-runs-error" />
      <div className="jp-Labworks-toolbar">
        <Button
          className="jp-Labworks-button"
          small
          disabled={selected < 2 || selected > MAX_COMPARE}
          title={
            selected > MAX_COMPARE
              ? trans.__('Compare at most %1 runs at once', MAX_COMPARE)
              : trans.__(
                  'Compare the selected runs: curves, values and parameters'
                )
          }
          onClick={() => void compareSelected()}
        >
          {trans.__('Compare (%1)', selected)}
        </Button>
        <Button
          className="jp-Labworks-button"
          small
          minimal
          disabled={selected === 0}
          title={trans.__('Save the selected runs as a CSV file')}
          onClick={() => void exportSelected()}
        >
          <downloadIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('Export CSV')}
        </Button>
        {selected > 0 && (
          <Button
            className="jp-Labworks-button"
            small
            minimal
            onClick={() => model.clearSelection()}
          >
            {trans.__('Clear selection')}
          </Button>
        )}
        <Button
          className="jp-Labworks-button"
          small
          minimal
          aria-expanded={chooserOpen}
          onClick={() => setChooserOpen(!chooserOpen)}
        >
          {trans.__('Columns (%1)', model.columns.length)}
        </Button>
        <RefreshButton
          label={trans.__('Refresh the runs')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
        <span className="jp-Labworks-hint" data-testid="labworks-runs-count">
          {!model.loaded
            ? trans.__('Loading the runs…')
            : model.complete
              ? trans._n('%1 run', '%1 runs', model.runs.length)
              : trans.__(
                  '%1 runs listed; more as you scroll',
                  model.runs.length
                )}
        </span>
      </div>
      {exportError !== null && (
        <p className="jp-Labworks-errorText" role="alert">
          {exportError}
        </p>
      )}
      {chooserOpen && <ColumnChooser model={model} trans={trans} />}
      {model.loaded && model.runs.length === 0 && model.error === null && (
        <p className="jp-Labworks-empty">
          {model.search || Object.keys(model.columnFilters).length > 0
            ? trans.__('No run matches these filters.')
            : trans.__('No runs in this experiment yet.')}
        </p>
      )}
      <RunsTable model={model} trans={trans} openRun={actions.openRun} />
    </div>
  );
}
