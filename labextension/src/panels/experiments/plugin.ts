import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';

import { requestAPI } from '../../api';
import { IJobRef, outputPath } from '../../common/jobOutputs';
import { experimentsIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
// The client backs the artifacts drive, registered at start.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExperimentsClient } from '../../common/experiments/client';
import { openModelsAction } from '../../common/deployments';
import { ArtifactDrive, artifactDrivePath, IFileFormat } from './drive';
// The panel and its model are in the sidebar from the start.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExperimentsModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExperimentsPanel } from './Panel';
import type { IColumnStore } from './runs';
import type { IRunActions } from './RunView';
import type { IExperiment, IRun } from '../../common/experiments/types';

/**
 * The command ids of the experiments.
 */
export namespace ExperimentsCommandIDs {
  export const open = 'labworks:open-experiments';
  export const openRuns = 'labworks:open-experiment-runs';
  export const compare = 'labworks:compare-runs';
  export const openRun = 'labworks:open-run';
}

/**
 * The command of the TensorBoard plugin that shows a run's event files.
 */
const OPEN_TENSORBOARD = 'labworks:open-tensorboard';

/**
 * The Experiments panel in the sidebar, the runs table, comparison and run
 * pages in the main area, and the read-only drive of runs' artifacts.
 */
export const experimentsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:experiments',
  description: 'Tracked experiments: runs, comparisons and artifacts.',
  autoStart: true,
  requires: [ILabworksSidebar, IWorkspaceFactsProvider],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    sidebar: ILabworksSidebar,
    workspace: IWorkspaceFactsProvider,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('labworks');
    const client = new ExperimentsClient(app.serviceManager.serverSettings);
    const model = new ExperimentsModel({ client });
    const main = new MainArea(app);
    const fileFormat = (path: string): IFileFormat => {
      const type = app.docRegistry.getFileTypesForPath(path)[0];
      if (type?.contentType === 'notebook') {
        return { format: 'json', mimetype: 'application/x-ipynb+json' };
      }
      return {
        format: type?.fileFormat === 'base64' ? 'base64' : 'text',
        mimetype: type?.mimeTypes[0] ?? 'text/plain'
      };
    };
    app.serviceManager.contents.addDrive(
      new ArtifactDrive({
        client,
        fileFormat,
        readOnlyMessage: trans.__(
          'Run artifacts are read-only: save a copy to edit one.'
        )
      })
    );

    const runActions: IRunActions = {
      canOpen: path => app.docRegistry.getFileTypesForPath(path).length > 0,
      openArtifact: async (runId, path) => {
        await app.commands.execute('docmanager:open', {
          path: artifactDrivePath(runId, path)
        });
      },
      downloadArtifact: async (runId, path) => {
        const [blob, { saveBlob }] = await Promise.all([
          client.artifact(runId, path),
          import('../../common/download')
        ]);
        saveBlob(blob, path.split('/').pop() ?? path);
      },
      openJobOutput: async jobId => {
        const job = await requestAPI<IJobRef>(
          `jobs/${encodeURIComponent(jobId)}`,
          {},
          client.serverSettings
        );
        await app.commands.execute('docmanager:open', {
          path: outputPath(job),
          factory: 'Notebook'
        });
      }
    };
    const openRun = async (runId: string, run?: IRun) => {
      const { runView } = await import('./views');
      // TensorBoard and Models are other plugins': offered where installed.
      const actions: IRunActions = {
        ...runActions,
        openModels: openModelsAction(app.commands)
      };
      if (app.commands.hasCommand(OPEN_TENSORBOARD)) {
        actions.openTensorBoard = async id => {
          await app.commands.execute(OPEN_TENSORBOARD, { runId: id });
        };
      }
      main.show(`labworks-run-${runId}`, () =>
        runView({ client, runId, run, actions, trans })
      );
    };
    const compare = async (runs: IRun[]) => {
      const { compareView } = await import('./views');
      main.show(null, () =>
        compareView({ client, runs, trans, openRun: id => void openRun(id) })
      );
    };
    const openRuns = async (experiment: IExperiment) => {
      const { runsView } = await import('./views');
      main.show(`labworks-runs-${experiment.experiment_id}`, () =>
        runsView({
          client,
          experiment,
          trans,
          columnStore: localColumnStore(),
          actions: {
            openRun: run => void openRun(run.info.run_id, run),
            compare: runs => void compare(runs)
          }
        })
      );
    };

    const panel = new ExperimentsPanel({
      model,
      translator,
      open: experiment => void openRuns(experiment),
      share: async experiment => {
        const { shareDialog } = await import('../../common/VisibilityDialog');
        await shareDialog({
          target: {
            kind: 'experiments',
            key: experiment.experiment_id,
            name: experiment.name
          },
          workspace,
          trans,
          serverSettings: app.serviceManager.serverSettings
        });
      }
    });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: experimentsIcon,
      command: ExperimentsCommandIDs.open,
      trans,
      palette
    });

    addCommands(app, trans, {
      openRuns: async (id, name) =>
        openRuns(model.find(id) ?? { experiment_id: id, name: name || id }),
      compare: async ids =>
        compare(await Promise.all(ids.map(id => client.getRun(id)))),
      openRun: id => openRun(id)
    });
  }
};

/**
 * The experiments' commands, for the palette and other extensions.
 */
function addCommands(
  app: JupyterFrontEnd,
  trans: TranslationBundle,
  run: {
    openRuns(id: string, name: string): Promise<void>;
    compare(runIds: string[]): Promise<void>;
    openRun(runId: string): Promise<void>;
  }
): void {
  const text = { type: 'string' };
  app.commands.addCommand(ExperimentsCommandIDs.openRuns, {
    label: trans.__('Open Experiment Runs'),
    caption: trans.__('Show the runs table of an experiment'),
    describedBy: {
      args: {
        type: 'object',
        properties: { experimentId: text, name: text },
        required: ['experimentId']
      }
    },
    execute: args =>
      run.openRuns(String(args.experimentId), String(args.name ?? ''))
  });
  app.commands.addCommand(ExperimentsCommandIDs.compare, {
    label: trans.__('Compare Runs'),
    caption: trans.__('Compare tracked runs: curves, values, parameters'),
    describedBy: {
      args: {
        type: 'object',
        properties: { runIds: { type: 'array', items: text } },
        required: ['runIds']
      }
    },
    execute: args => run.compare((args.runIds as string[]) ?? [])
  });
  app.commands.addCommand(ExperimentsCommandIDs.openRun, {
    label: trans.__('Open Run'),
    caption: trans.__('Show a tracked run: parameters, metrics, artifacts'),
    describedBy: {
      args: {
        type: 'object',
        properties: { runId: text },
        required: ['runId']
      }
    },
    execute: args => run.openRun(String(args.runId))
  });
}

/**
 * The main-area views: one per id (shown again when opened again).
 */
class MainArea {
  constructor(private _app: JupyterFrontEnd) {}

  /**
   * Show the view with this id, made by `make` unless it is open; `null`:
   * always a new one.
   */
  show(id: string | null, make: () => Widget): void {
    const open = id === null ? undefined : this._open.get(id);
    if (open !== undefined && !open.isDisposed) {
      this._app.shell.activateById(open.id);
      return;
    }
    const widget = make();
    if (id !== null) {
      this._open.set(id, widget);
      widget.disposed.connect(() => this._open.delete(id));
    }
    this._app.shell.add(widget, 'main');
    this._app.shell.activateById(widget.id);
  }

  private _open = new Map<string, Widget>();
}

/**
 * The browser's local storage for the columns chosen per experiment, or
 * `null` where the browser refuses it.
 */
function localColumnStore(): IColumnStore | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
