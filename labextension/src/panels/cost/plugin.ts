import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { costIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
// The meter is in the status bar from the start: not loaded lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CostMeterModel } from './meter';
// The Cost panel is in the sidebar from the start, so it cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CostModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CostPanel } from './Panel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CostMeterItem } from './StatusItem';

/**
 * The command ids of the Cost panel.
 */
export namespace CostCommandIDs {
  export const open = 'labworks:open-cost';
}

/**
 * The Cost panel: what the person's (and their groups') work costs, by day
 * and by what it was spent on, and budgets; administrators see everyone's
 * and set budgets.
 */
export const costPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:cost',
  description: 'The Cost panel: spend by day and by item, budgets.',
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
    const model = new CostModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const panel = new CostPanel({ model, translator });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: costIcon,
      command: CostCommandIDs.open,
      placement: { area: 'left', rank: 635 },
      trans,
      palette
    });
    // Administrators see everyone's costs and set budgets.
    void workspace
      .facts()
      .then(facts => model.setAdmin(facts.admin))
      .catch(() => undefined);
  }
};

/**
 * The status-bar meter: this workspace's burn rate per hour, today's and
 * this month's spend, GPU use where there is a GPU; a click opens the Cost
 * panel. It asks every 15 s while the page is visible.
 */
export const costMeterPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:cost-meter',
  description: 'A status-bar meter of what this workspace costs.',
  autoStart: true,
  optional: [IStatusBar, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ): void => {
    if (!statusBar) {
      return;
    }
    const trans = (translator ?? nullTranslator).load('labworks');
    const model = new CostMeterModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const item = new CostMeterItem({
      model,
      trans,
      open: () => {
        if (app.commands.hasCommand(CostCommandIDs.open)) {
          void app.commands.execute(CostCommandIDs.open);
        }
      }
    });
    item.disposed.connect(() => model.dispose());
    statusBar.registerStatusItem('labworks:cost-meter', {
      item,
      align: 'left',
      rank: 50,
      isActive: () => model.summary !== null,
      activeStateChanged: model.changed
    });
    void app.restored.then(() => model.refresh());
  }
};
