import { ReactWidget } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import React from 'react';

import type { ExperimentsClient } from '../../common/experiments/client';
import { CompareModel } from './compare';
import { CompareView } from './CompareView';
import { RunModel } from './run';
import { IColumnStore, RunsModel } from './runs';
import { IRunsActions, RunsView } from './RunsView';
import { IRunActions, RunView } from './RunView';
import type { IExperiment, IRun } from '../../common/experiments/types';
import { runName } from '../../common/experiments/types';

/**
 * The main-area views of the Experiments panel: an experiment's runs, a
 * comparison of runs, a run's page. Loaded when one is first opened.
 */

/**
 * A model a view renders and owns.
 */
interface IViewModel extends IDisposable {
  readonly changed: ISignal<unknown, void>;
}

/**
 * A React view of one model: renders again when the model changes and
 * disposes it with itself.
 */
export class ModelView<M extends IViewModel> extends ReactWidget {
  constructor(model: M, view: (model: M) => JSX.Element) {
    super();
    this.model = model;
    this._view = view;
    this.addClass('jp-Labworks-ExperimentsView');
    model.changed.connect(this._onChanged, this);
  }

  readonly model: M;

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onChanged, this);
    this.model.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    return this._view(this.model);
  }

  private _onChanged(): void {
    this.update();
  }

  private _view: (model: M) => JSX.Element;
}

/**
 * An experiment's runs table.
 */
export function runsView(options: {
  client: ExperimentsClient;
  experiment: IExperiment;
  actions: IRunsActions;
  trans: TranslationBundle;
  columnStore: IColumnStore | null;
}): ModelView<RunsModel> {
  const { experiment, actions, trans } = options;
  const model = new RunsModel({
    client: options.client,
    experiment,
    columnStore: options.columnStore
  });
  const view = new ModelView(model, m => (
    <RunsView model={m} actions={actions} trans={trans} />
  ));
  view.id = `labworks-runs-${experiment.experiment_id}`;
  view.title.label = trans.__('Runs: %1', experiment.name);
  view.title.caption = trans.__('The runs of experiment %1', experiment.name);
  view.title.closable = true;
  return view;
}

/**
 * A comparison of runs.
 */
export function compareView(options: {
  client: ExperimentsClient;
  runs: IRun[];
  openRun(runId: string): void;
  trans: TranslationBundle;
}): ModelView<CompareModel> {
  const { trans } = options;
  const model = new CompareModel({
    client: options.client,
    runs: options.runs
  });
  void model.load();
  const view = new ModelView(model, m => (
    <CompareView model={m} trans={trans} openRun={options.openRun} />
  ));
  view.id = `labworks-compare-${Date.now()}`;
  view.title.label = trans.__('Compare %1 runs', options.runs.length);
  view.title.caption = options.runs.map(runName).join(', ');
  view.title.closable = true;
  return view;
}

/**
 * A run's page.
 */
export function runView(options: {
  client: ExperimentsClient;
  runId: string;
  run?: IRun;
  actions: IRunActions;
  trans: TranslationBundle;
}): ModelView<RunModel> {
  const { trans, runId } = options;
  const model = new RunModel({
    client: options.client,
    runId,
    run: options.run
  });
  const view = new ModelView(model, m => (
    <RunView model={m} actions={options.actions} trans={trans} />
  ));
  view.id = `labworks-run-${runId}`;
  view.title.label = trans.__(
    'Run: %1',
    options.run ? runName(options.run) : runId.slice(0, 8)
  );
  view.title.caption = trans.__('Run %1', runId);
  view.title.closable = true;
  model.changed.connect(() => {
    if (model.current) {
      view.title.label = trans.__('Run: %1', runName(model.current));
    }
  });
  return view;
}
