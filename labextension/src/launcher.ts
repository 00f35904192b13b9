import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ILauncher } from '@jupyterlab/launcher';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { LAUNCHER_ARGS } from './sidebar';
import { ILabworksSidebar } from './tokens';

/**
 * The Labworks section of the launcher: a card per Labworks panel that has an
 * open command, added when the panel is (the Admin card only for admins).
 */
export const launcherPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:launcher',
  description: 'A Labworks section in the launcher: a card per panel.',
  autoStart: true,
  requires: [ILabworksSidebar],
  optional: [ILauncher, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    sidebar: ILabworksSidebar,
    launcher: ILauncher | null,
    translator: ITranslator | null
  ): void => {
    if (!launcher) {
      return;
    }
    const category = (translator ?? nullTranslator)
      .load('labworks')
      .__('Labworks');
    const add = (panel: ILabworksSidebar.IPanel) => {
      const command = panel.options.command;
      if (!command) {
        return;
      }
      const card = launcher.add({
        command,
        args: LAUNCHER_ARGS,
        category,
        rank: sidebar.placement(panel.widget.id).rank
      });
      panel.widget.disposed.connect(() => card.dispose());
    };
    sidebar.panels.forEach(add);
    sidebar.panelAdded.connect((_, panel) => add(panel));
  }
};
