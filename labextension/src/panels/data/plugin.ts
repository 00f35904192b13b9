import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { dataIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
// The panel and its model are in the sidebar from the start.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { DataModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { DataPanel } from './Panel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SourcesModel } from './sourcesModel';
import { insertCodeCell } from './insertCell';

/**
 * The command ids of the Data panel.
 */
export namespace DataCommandIDs {
  export const open = 'labworks:open-data';
}

/**
 * The Data panel in the sidebar: the datasets the person may read, their
 * versions and files, the code that reads one, and sharing their own; and
 * the data sources: browsing, previews, snippets, access requests and, for
 * their owners, grants and usage.
 */
export const dataPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:data',
  description:
    'The Data panel: versioned datasets and data sources you can read.',
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
    const model = new DataModel({ serverSettings });
    const sources = new SourcesModel({
      serverSettings,
      isAdmin: async () => (await workspace.facts()).admin
    });
    const panel = new DataPanel({
      model,
      translator,
      sources: {
        model: sources,
        actions: {
          copy: text => Clipboard.copyToSystem(text),
          insert: code => insertCodeCell(app.shell.currentWidget, code)
        }
      },
      actions: {
        copy: text => Clipboard.copyToSystem(text),
        share: async dataset => {
          const { shareDialog } = await import('../../common/VisibilityDialog');
          const changed = await shareDialog({
            target: { kind: 'datasets', key: dataset.ref, name: dataset.ref },
            workspace,
            trans,
            serverSettings
          });
          if (changed !== null) {
            await model.refresh();
          }
        }
      }
    });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: dataIcon,
      command: DataCommandIDs.open,
      trans,
      palette
    });
  }
};
