import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  showDialog
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { modelsIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
// The panel polls its deployments while shown; it is in the sidebar from the start.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ModelsModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ModelsPanel } from './Panel';
import type { IModelsActions } from './viewProps';

/**
 * The command ids of the Models panel.
 */
export namespace ModelsCommandIDs {
  export const open = 'labworks:open-models';
}

/**
 * The Experiments panel's command that shows a run (`{ runId }`): a
 * version's lineage links to its run there.
 */
const OPEN_RUN = 'labworks:open-run';

/**
 * The Models panel: registered models with "Serve" on each version, the
 * deployments with their live traffic, canaries and "Try it".
 */
export const modelsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:models',
  description: 'Registered models, served endpoints, canaries and Try it.',
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
    const model = new ModelsModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const actions: IModelsActions = {
      user: PageConfig.getOption('hubUser') || null,
      serve: async (registered, version) => {
        const { serveDialog } = await import('./ServeDialog');
        const made = await serveDialog({
          client: model.client,
          model: registered,
          version,
          trans
        });
        if (made !== null) {
          await model.show(made);
        }
      },
      copy: text => Clipboard.copyToSystem(text),
      openRun: runId => {
        if (app.commands.hasCommand(OPEN_RUN)) {
          void app.commands.execute(OPEN_RUN, { runId });
        }
      },
      share: async deployment => {
        const { shareDialog } = await import('../../common/VisibilityDialog');
        const shared = await shareDialog({
          target: {
            kind: 'deployments',
            key: deployment.name,
            name: deployment.name
          },
          workspace,
          trans,
          serverSettings: model.client.serverSettings
        });
        if (shared !== null) {
          await model.refresh();
        }
      },
      confirmUndeploy: async deployment => {
        const result = await showDialog({
          title: trans.__('Undeploy %1', deployment.name),
          body: trans.__(
            'Stop serving %1? The endpoint stops answering now and its model servers stop. The registered model and its versions stay.',
            deployment.name
          ),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({ label: trans.__('Undeploy') })
          ]
        });
        return result.button.accept;
      }
    };
    const panel = new ModelsPanel({ model, actions, translator });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: modelsIcon,
      command: ModelsCommandIDs.open,
      placement: { area: 'left', rank: 625 },
      trans,
      palette
    });
  }
};
