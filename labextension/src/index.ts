import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';

import { workspaceIcon } from './icons';
import type { IIdleNotifier } from './idle';
// The Workspace panel and its model are in the sidebar from the start: they cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { WorkspaceModel } from './panels/workspace/model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { WorkspacePanel } from './panels/workspace/Panel';
// The Share Workspace command is registered at start, with the panel.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addSharingCommands } from './panels/workspace/Sharing';
import { costMeterPlugin, costPlugin } from './panels/cost/plugin';
import { dataPlugin } from './panels/data/plugin';
import { experimentsPlugin } from './panels/experiments/plugin';
import { galleryPlugin } from './panels/gallery/plugin';
import { jobsPlugin } from './panels/jobs/plugin';
import { modelsPlugin } from './panels/models/plugin';
import { sweepsPlugin } from './panels/sweeps/plugin';
import { launcherPlugin } from './launcher';
import { adminPlugin } from './panels/admin/plugin';
import { addPanelTab, LabworksSidebar, Placements } from './sidebar';
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
 * The registry of Labworks panels: each one a tab of the side area, placed
 * as the `labworks:sidebar` settings say and restored with the layout.
 */
const sidebarPlugin: JupyterFrontEndPlugin<ILabworksSidebar> = {
  id: 'labworks:sidebar',
  description: 'The Labworks panels, each a tab of the side area.',
  autoStart: true,
  provides: ILabworksSidebar,
  optional: [ILayoutRestorer, ISettingRegistry],
  activate: async (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    registry: ISettingRegistry | null
  ): Promise<ILabworksSidebar> => {
    // Read before any panel is added, so that each tab is placed once.
    const settings = registry
      ? await registry.load(sidebarPlugin.id).catch(reason => {
          console.warn('Labworks: the sidebar settings did not load', reason);
          return null;
        })
      : null;
    const placements = (): Placements =>
      (settings?.composite ?? {}) as unknown as Placements;
    const sidebar = new LabworksSidebar({
      shell: app.shell,
      restorer,
      placements: placements()
    });
    settings?.changed.connect(() => sidebar.setPlacements(placements()));
    // The restored layout puts each tab back where it was saved: where the
    // settings said then, which may not be what they say now.
    void app.restored.then(() => sidebar.reconcile());
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
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: workspaceIcon,
      command: CommandIDs.openWorkspace,
      trans,
      palette,
      refreshOnOpen: false // the facts have their own refresh command
    });
    app.commands.addCommand(CommandIDs.refreshWorkspace, {
      label: trans.__('Refresh Labworks Workspace Facts'),
      caption: trans.__('Fetch the workspace facts again'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => model.refresh()
    });

    palette?.addItem({
      command: CommandIDs.refreshWorkspace,
      category: trans.__('Labworks')
    });
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
  launcherPlugin,
  adminPlugin,
  idlePlugin,
  galleryPlugin,
  jobsPlugin,
  sweepsPlugin,
  experimentsPlugin,
  modelsPlugin,
  dataPlugin,
  costPlugin,
  costMeterPlugin,
  tensorboardPlugin,
  workspaceFactsPlugin
];
