import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { runIcon } from '@jupyterlab/ui-components';

import { jobsIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
import { openModelsAction } from '../../common/deployments';
import { outputPath } from '../../common/jobOutputs';
import { addNotebookButton, notebookContext } from '../../common/notebook';
import { JobOutputDrive } from './drive';
// The model backs the drive and the notifications, which start with the lab.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsModel } from './model';
// The Jobs panel is in the sidebar from the start, so it cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsPanel } from './Panel';
import { NotificationsModel } from './notifications';
import { SchedulesModel } from './schedules';
import type { IJob } from '../../common/jobs/types';

/**
 * The command ids of the jobs.
 */
export namespace JobsCommandIDs {
  export const run = 'labworks:run-as-job';
  export const runFile = 'labworks:run-file-as-job';
  export const open = 'labworks:open-jobs';
}

/**
 * The Jobs panel, the read-only drive of output notebooks, "Run as job"
 * (notebook toolbar, palette, notebook and file-browser context menus) and
 * the notifications of ended jobs.
 */
export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:jobs',
  description: 'Notebook jobs: run a notebook now or on a schedule.',
  autoStart: true,
  requires: [ILabworksSidebar, IWorkspaceFactsProvider],
  optional: [ICommandPalette, ITranslator, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    sidebar: ILabworksSidebar,
    workspace: IWorkspaceFactsProvider,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    browser: IDefaultFileBrowser | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('labworks');
    const model = new JobsModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const schedules = new SchedulesModel(model.client);
    const notifications = new NotificationsModel(model.client);
    app.serviceManager.contents.addDrive(
      new JobOutputDrive(
        model.client,
        trans.__('Job outputs are read-only: save a copy to edit one.')
      )
    );
    const openOutput = (job: IJob) =>
      void app.commands.execute('docmanager:open', {
        path: outputPath(job),
        factory: 'Notebook'
      });
    const panel = new JobsPanel({
      model,
      schedules,
      notifications,
      translator,
      user: PageConfig.getOption('hubUser') || null,
      actions: {
        openOutput,
        diff: job => {
          // Opened before any await, while the click still counts as the person's.
          const tab = window.open('', '_blank');
          void import('./commands').then(m => m.openJobDiff(model, job, tab));
        },
        run: () => void app.commands.execute(JobsCommandIDs.run),
        editSchedule: schedule =>
          void import('./commands').then(m =>
            m.editSchedule(schedules, schedule, trans)
          ),
        findModelRun: async job => {
          const [{ ExperimentsClient }, { RegistryClient }, { jobModelRun }] =
            await Promise.all([
              import('../../common/experiments/client'),
              import('../../common/experiments/registry'),
              import('../../common/experiments/jobRuns')
            ]);
          return jobModelRun(
            model.client,
            new ExperimentsClient(model.serverSettings),
            new RegistryClient(model.serverSettings),
            job.id
          );
        },
        // Another plugin's command, there or not once the lab has started.
        get openModels() {
          return openModelsAction(app.commands);
        }
      }
    });
    panel.disposed.connect(() => {
      schedules.dispose();
      notifications.dispose();
    });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: jobsIcon,
      command: JobsCommandIDs.open,
      trans,
      palette
    });

    const showJob = (job: IJob) => {
      sidebar.activatePanel(panel.id);
      void model.show(job);
    };
    model.ended.connect(
      (_, job) =>
        void import('./commands').then(m =>
          m.notifyEnded(job, trans, openOutput, showJob)
        )
    );
    void app.restored.then(() => model.start());

    const run = async (path: string) => {
      const { runAsJob } = await import('./commands');
      const result = await runAsJob({ app, model, workspace, trans }, path);
      if (result === null) {
        return;
      }
      sidebar.activatePanel(panel.id);
      if (result.kind === 'job') {
        await model.show(result.job);
      } else {
        await schedules.refresh();
        Notification.success(
          trans.__(
            'Scheduled %1: %2 (%3)',
            result.schedule.name,
            result.schedule.cron,
            result.schedule.timezone
          ),
          { autoClose: 5000 }
        );
      }
    };
    const current = () => notebookContext(app.shell.currentWidget);
    app.commands.addCommand(JobsCommandIDs.run, {
      label: trans.__('Run as Job…'),
      caption: trans.__(
        'Run this notebook on the platform with papermill, now or on a schedule'
      ),
      icon: runIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      isEnabled: () => current() !== null,
      execute: async () => {
        const context = current();
        if (context !== null) {
          await run(context.path);
        }
      }
    });
    const selectedNotebook = (): string | null => {
      const item = browser?.selectedItems().next();
      const model_ = item && !item.done ? item.value : null;
      return model_?.type === 'notebook' ? model_.path : null;
    };
    app.commands.addCommand(JobsCommandIDs.runFile, {
      label: trans.__('Run as Job…'),
      caption: trans.__('Run the selected notebook as a job'),
      icon: runIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      isVisible: () => selectedNotebook() !== null,
      execute: async () => {
        const path = selectedNotebook();
        if (path !== null) {
          await run(path);
        }
      }
    });

    app.contextMenu.addItem({
      command: JobsCommandIDs.run,
      selector: '.jp-Notebook',
      rank: 61
    });
    app.contextMenu.addItem({
      command: JobsCommandIDs.runFile,
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 3
    });
    addNotebookButton(app, {
      name: 'labworks-run-job',
      icon: runIcon,
      label: trans.__('Run as job'),
      tooltip: trans.__(
        'Run this notebook as a job on the platform, now or on a schedule'
      ),
      onClick: path => void run(path)
    });
    if (palette) {
      const category = trans.__('Labworks');
      palette.addItem({ command: JobsCommandIDs.run, category });
    }
  }
};
