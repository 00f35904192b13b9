import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { adminIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
// The model asks at start whether the person is an administrator.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AdminModel } from './model';

/**
 * The command ids of the Admin panel.
 */
export namespace AdminCommandIDs {
  export const open = 'labworks:open-admin';
}

/**
 * The Admin panel, for administrators only: its tab, launcher card and
 * command appear once the platform's users list loads (anyone else is
 * refused it, 403, and sees nothing of it).
 */
export const adminPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:admin',
  description: 'The Admin panel: users, groups and their members.',
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
    const model = new AdminModel({
      serverSettings: app.serviceManager.serverSettings,
      translator
    });
    const show = async () => {
      const { AdminPanel } = await import('./Panel');
      const panel = new AdminPanel({
        model,
        translator,
        user: PageConfig.getOption('hubUser') || null
      });
      addPanelTab(app.commands, {
        sidebar,
        panel,
        model,
        icon: adminIcon,
        command: AdminCommandIDs.open,
        trans,
        palette
      });
    };
    // Not awaited: the lab starts without waiting for the platform.
    void (async () => {
      // A workspace whose facts say "not an administrator" does not ask.
      const facts = await workspace.facts().catch(() => null);
      if (facts?.admin !== false && (await model.refresh())) {
        await show();
      } else {
        model.dispose();
      }
    })();
  }
};
