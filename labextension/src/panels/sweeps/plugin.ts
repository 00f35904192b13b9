import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { sweepsIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
import { outputPath } from '../../common/jobOutputs';
import { addNotebookButton, notebookContext } from '../../common/notebook';
// The panel polls while a sweep runs, from the start: not loaded lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SweepsModel } from './model';
import { CostClient } from '../../common/cost';
// The model reads the sweeps' costs with each listing, from the start too.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SweepCosts } from './costs';
// The Sweeps panel is in the sidebar from the start, so it cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SweepsPanel } from './Panel';
import type { ISweepActions } from './viewProps';

/**
 * The command ids of the sweeps.
 */
export namespace SweepsCommandIDs {
  export const open = 'labworks:open-sweeps';
  export const sweep = 'labworks:sweep-notebook';
}

/**
 * Commands of other plugins the panel uses where they are installed.
 */
const OPEN_RUN = 'labworks:open-run';
const OPEN_JOBS = 'labworks:open-jobs';

/**
 * The Sweeps panel and the "Sweep" button of the notebook toolbar (beside
 * "Run as job"), also in the palette and the notebook's context menu.
 */
export const sweepsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:sweeps',
  description: 'Hyperparameter sweeps over a notebook’s parameters.',
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
    const serverSettings = app.serviceManager.serverSettings;
    const model = new SweepsModel({
      serverSettings,
      costs: new SweepCosts(new CostClient(serverSettings))
    });
    const actions: ISweepActions = {
      user: PageConfig.getOption('hubUser') || null,
      // The Experiments panel is another plugin's: its run page where it is installed.
      get openRun() {
        return app.commands.hasCommand(OPEN_RUN)
          ? (runId: string) => void app.commands.execute(OPEN_RUN, { runId })
          : null;
      },
      openJob: (id, name) =>
        void app.commands.execute('docmanager:open', {
          path: outputPath({ id, name }),
          factory: 'Notebook'
        }),
      askTrials: async () => {
        const result = await InputDialog.getNumber({
          title: trans.__('Extend the sweep'),
          label: trans.__('How many more trials?'),
          value: 10,
          okLabel: trans.__('Extend')
        });
        const value = result.value;
        return result.button.accept && value !== null && value >= 1
          ? Math.floor(value)
          : null;
      },
      share: async sweep => {
        const { shareDialog } = await import('../../common/VisibilityDialog');
        const shared = await shareDialog({
          target: { kind: 'sweeps', key: sweep.id, name: sweep.name },
          workspace,
          trans,
          serverSettings: model.client.serverSettings
        });
        if (shared !== null) {
          await model.refresh();
        }
      },
      confirmDelete: async sweep => {
        const result = await showDialog({
          title: trans.__('Delete sweep %1', sweep.name),
          body: trans.__(
            'Delete this sweep with its trials and its study? A running sweep is stopped first and its trials’ jobs are cancelled. The jobs and their MLflow runs stay.'
          ),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({ label: trans.__('Delete') })
          ]
        });
        return result.button.accept;
      },
      rerunStarted: (id, name) => {
        Notification.success(trans.__('Started job %1 (%2)', name, id), {
          autoClose: 5000,
          actions: app.commands.hasCommand(OPEN_JOBS)
            ? [
                {
                  label: trans.__('Show jobs'),
                  callback: () => void app.commands.execute(OPEN_JOBS)
                }
              ]
            : []
        });
      }
    };
    const panel = new SweepsPanel({ model, actions, translator });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: sweepsIcon,
      command: SweepsCommandIDs.open,
      trans,
      palette
    });

    const sweep = async (path: string) => {
      if (path.includes(':')) {
        await showErrorMessage(
          trans.__('Sweep'),
          trans.__(
            'Only notebooks of this workspace can be swept; copy this one into it first.'
          )
        );
        return;
      }
      const [{ saveIfOpen, listProfiles }, { sweepDialog }, { fetchPrices }] =
        await Promise.all([
          import('../../common/jobs/launch'),
          import('./SweepDialog'),
          import('../../common/cost')
        ]);
      try {
        await saveIfOpen(app, path);
      } catch (reason) {
        await showErrorMessage(trans.__('Sweep'), reason as Error);
        return;
      }
      const [facts, profiles, prices] = await Promise.all([
        workspace.facts().catch(() => null),
        listProfiles(model.jobs),
        fetchPrices(model.jobs.serverSettings)
      ]);
      const created = await sweepDialog({
        client: model.client,
        jobs: model.jobs,
        path,
        profile: facts?.profile.name ?? null,
        profiles,
        prices,
        trans
      });
      if (created !== null) {
        sidebar.activatePanel(panel.id);
        await model.show(created);
      }
    };
    const current = () => notebookContext(app.shell.currentWidget);
    app.commands.addCommand(SweepsCommandIDs.sweep, {
      label: trans.__('Sweep Parameters…'),
      caption: trans.__(
        'Search this notebook’s parameters: trials run as jobs, the best one wins'
      ),
      icon: sweepsIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      isEnabled: () => current() !== null,
      execute: async () => {
        const context = current();
        if (context !== null) {
          await sweep(context.path);
        }
      }
    });
    app.contextMenu.addItem({
      command: SweepsCommandIDs.sweep,
      selector: '.jp-Notebook',
      rank: 62
    });
    addNotebookButton(app, {
      name: 'labworks-sweep',
      icon: sweepsIcon,
      label: trans.__('Sweep'),
      tooltip: trans.__(
        'Search this notebook’s parameters with trials run as jobs'
      ),
      onClick: path => void sweep(path)
    });
    void app.restored.then(() => model.refresh());
    if (palette) {
      const category = trans.__('Labworks');
      palette.addItem({ command: SweepsCommandIDs.sweep, category });
    }
  }
};
