import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';

import { labworksIcon } from './icons';
import type { IIdleNotifier } from './idle';
// The Workspace panel and its model are in the sidebar from the start: they cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { WorkspaceModel } from './panels/workspace/model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { WorkspacePanel } from './panels/workspace/Panel';
// The Share Workspace command is registered at start, with the panel.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addSharingCommands } from './panels/workspace/Sharing';
import { dataPlugin } from './panels/data/plugin';
import { experimentsPlugin } from './panels/experiments/plugin';
import { galleryPlugin } from './panels/gallery/plugin';
import { jobsPlugin } from './panels/jobs/plugin';
import { LabworksSidebar } from './sidebar';
import { tensorboardPlugin } from './tensorboard';
import { ILabworksSidebar, IWorkspaceFactsProvider } from './tokens';
import { workspaceFactsPlugin } from './workspaceFacts';

/**
 * The command ids of the extension.
 */
export namespace CommandIDs {
  export const openWorkspace = 'labworks:open-workspace';
  export const refreshWorkspace = 'labworks:refresh-workspace';
}

/**
 * The Labworks sidebar in the left area; panels add themselves through
 * the ILabworksSidebar token.
 */
const sidebarPlugin: JupyterFrontEndPlugin<ILabworksSidebar> = {
  id: 'labworks:sidebar',
  description: 'The Labworks sidebar, a container of Labworks panels.',
  autoStart: true,
  provides: ILabworksSidebar,
  optional: [ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): ILabworksSidebar => {
    const sidebar = new LabworksSidebar({
      translator: translator ?? nullTranslator,
      reveal: () => app.shell.activateById(sidebar.id)
    });
    app.shell.add(sidebar, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
    }
    return sidebar;
  }
};

/**
 * The Workspace panel and its commands.
 */
const workspacePlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:workspace',
  description: 'The Workspace panel: user, profile, limits, image and status.',
  autoStart: true,
  requires: [ILabworksSidebar, IWorkspaceFactsProvider],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    sidebar: ILabworksSidebar,
    facts: IWorkspaceFactsProvider,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('labworks');
    const model = new WorkspaceModel({
      serverSettings: app.serviceManager.serverSettings,
      facts
    });
    const panel = new WorkspacePanel({ model, translator });
    panel.disposed.connect(() => model.dispose());
    sidebar.addPanel(panel, { rank: 0 });

    app.commands.addCommand(CommandIDs.openWorkspace, {
      label: trans.__('Open Labworks Workspace'),
      caption: trans.__('Show the Workspace panel of the Labworks sidebar'),
      icon: labworksIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => sidebar.activatePanel(panel.id)
    });
    app.commands.addCommand(CommandIDs.refreshWorkspace, {
      label: trans.__('Refresh Labworks Workspace Facts'),
      caption: trans.__('Fetch the workspace facts again'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => model.refresh()
    });

    if (palette) {
      const category = trans.__('Labworks');
      palette.addItem({ command: CommandIDs.openWorkspace, category });
      palette.addItem({ command: CommandIDs.refreshWorkspace, category });
    }
    addSharingCommands(
      app,
      model.sharing,
      trans,
      () => sidebar.activatePanel(panel.id),
      palette
    );
  }
};

/**
 * The idle warning: before the workspace stops for idleness, a notification
 * with a "Keep running" action; a person using the lab counts as activity.
 */
const idlePlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:idle-warning',
  description: 'Warns before the workspace stops for idleness.',
  autoStart: true,
  optional: [ITranslator],
  activate: (app: JupyterFrontEnd, translator: ITranslator | null): void => {
    const trans = (translator ?? nullTranslator).load('labworks');
    let id: string | null = null;
    const shown = (): boolean => id !== null && Notification.manager.has(id);
    const notifier: IIdleNotifier = {
      warn: (message, keepRunning) => {
        const options = {
          autoClose: false as const,
          actions: [
            {
              label: trans.__('Keep running'),
              caption: trans.__(
                'Count this as activity and keep the workspace'
              ),
              displayType: 'accent' as const,
              callback: keepRunning
            }
          ]
        };
        if (id !== null && shown()) {
          Notification.update({ id, message, type: 'warning', ...options });
        } else {
          id = Notification.warning(message, options);
        }
      },
      stopped: message => {
        if (id !== null && shown()) {
          Notification.update({
            id,
            message,
            type: 'info',
            actions: [],
            autoClose: false
          });
        } else {
          id = Notification.info(message, { autoClose: false });
        }
      },
      clear: () => {
        if (id !== null) {
          Notification.dismiss(id);
        }
        id = null;
      }
    };
    void app.restored.then(async () => {
      const { IdleWatcher } = await import('./idle');
      const watcher = new IdleWatcher({
        serverSettings: app.serviceManager.serverSettings,
        notifier
      });
      app.shell.disposed.connect(() => watcher.dispose());
      // Opening the lab is a person arriving: it counts as activity.
      await watcher.keepRunning().catch(() => watcher.check());
    });
  }
};

export * from './tokens';
export { requestAPI, APIError } from './api';

export default [
  sidebarPlugin,
  workspacePlugin,
  idlePlugin,
  galleryPlugin,
  jobsPlugin,
  experimentsPlugin,
  dataPlugin,
  tensorboardPlugin,
  workspaceFactsPlugin
];
