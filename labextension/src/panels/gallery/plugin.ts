import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog,
  showErrorMessage,
  ToolbarButton
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import type {
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { showDiff } from '../../common/nbdime';
import { notebookContext } from '../../common/notebook';
import { galleryIcon } from '../../icons';
import { addPanelTab } from '../../sidebar';
import { ILabworksSidebar, IWorkspaceFactsProvider } from '../../tokens';
import { GALLERY_DRIVE, GalleryDrive, versionPath } from './drive';
// The model backs the drive, which must be registered at start.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { GalleryModel, IGalleryEntry } from './model';
// The Gallery panel is in the sidebar from the start, so it cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { GalleryPanel } from './Panel';

/**
 * The command ids of the gallery.
 */
export namespace GalleryCommandIDs {
  export const publish = 'labworks:publish-notebook';
  export const open = 'labworks:open-gallery';
}

/**
 * What the publish dialog returns.
 */
export interface IPublishChoice {
  group: string;
  message: string;
}

/**
 * The body of the publish dialog: the group and a note on what changed.
 */
export class PublishForm
  extends Widget
  implements Dialog.IBodyWidget<IPublishChoice>
{
  constructor(groups: string[], name: string, trans: TranslationBundle) {
    super();
    this.addClass('jp-Labworks-publishForm');
    const intro = document.createElement('p');
    intro.textContent = trans.__(
      'Publish a read-only copy of %1 as a new version. Everyone in the group can open it.',
      name
    );
    const groupLabel = document.createElement('label');
    groupLabel.textContent = trans.__('Group');
    this._group = document.createElement('select');
    this._group.className = 'jp-mod-styled';
    this._group.setAttribute('aria-label', trans.__('Group'));
    for (const group of groups) {
      const option = document.createElement('option');
      option.value = option.textContent = group;
      this._group.appendChild(option);
    }
    groupLabel.appendChild(this._group);
    const messageLabel = document.createElement('label');
    messageLabel.textContent = trans.__('What changed');
    this._message = document.createElement('input');
    this._message.className = 'jp-mod-styled';
    this._message.setAttribute('aria-label', trans.__('What changed'));
    this._message.placeholder = trans.__('optional');
    messageLabel.appendChild(this._message);
    this.node.append(intro, groupLabel, messageLabel);
  }

  getValue(): IPublishChoice {
    return { group: this._group.value, message: this._message.value.trim() };
  }

  private _group: HTMLSelectElement;
  private _message: HTMLInputElement;
}

/**
 * Publish a notebook: save it, ask for the group, publish.
 *
 * Resolves the published version number, or `null` (cancelled or refused,
 * with the reason shown to the person).
 */
export async function publishNotebook(
  context: DocumentRegistry.Context,
  model: GalleryModel,
  workspace: IWorkspaceFactsProvider,
  trans: TranslationBundle
): Promise<number | null> {
  const title = trans.__('Publish to Gallery');
  if (context.path.startsWith(`${GALLERY_DRIVE}:`)) {
    await showErrorMessage(
      title,
      trans.__(
        'This is a gallery version already; copy it to your workspace first.'
      )
    );
    return null;
  }
  let groups: string[];
  try {
    groups = (await workspace.facts()).groups;
  } catch (reason) {
    await showErrorMessage(title, reason as Error);
    return null;
  }
  if (groups.length === 0) {
    await showErrorMessage(
      title,
      trans.__(
        'You are in no group, so there is no gallery to publish to. Ask an administrator to add you to one.'
      )
    );
    return null;
  }
  const name = context.path.split('/').pop() ?? context.path;
  const result = await showDialog<IPublishChoice>({
    title,
    body: new PublishForm(groups, name, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Publish') })
    ]
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  if (context.model.dirty) {
    await context.save();
  }
  const { group, message } = result.value;
  const published = await model.publish(context.path, group, message);
  if (published === null) {
    await showErrorMessage(title, model.error ?? trans.__('Publishing failed'));
    return null;
  }
  Notification.success(
    trans.__(
      'Published %1 to %2 as version %3',
      name,
      group,
      published.version.number
    ),
    { autoClose: 5000 }
  );
  return published.version.number;
}

/**
 * Show nbdime's diff between two versions in a new browser tab, opened at
 * once while the click still counts as the person's.
 */
export function openDiff(
  model: GalleryModel,
  entry: IGalleryEntry,
  base: number,
  remote: number
): Promise<boolean> {
  const tab = window.open('', '_blank');
  return showDiff(
    model.serverSettings,
    tab,
    model.diffFiles(entry.id, base, remote)
  );
}

/**
 * The Gallery panel, the read-only gallery drive and the Publish command
 * (palette, notebook toolbar and context menu).
 */
export const galleryPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:gallery',
  description:
    'The Gallery panel: notebooks published read-only to your groups.',
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
    const model = new GalleryModel({
      serverSettings: app.serviceManager.serverSettings
    });
    app.serviceManager.contents.addDrive(
      new GalleryDrive(
        model,
        trans.__(
          'Gallery versions are read-only: use Copy in the Gallery panel for an editable copy.'
        )
      )
    );
    const current = () => notebookContext(app.shell.currentWidget);
    const panel = new GalleryPanel({
      model,
      translator,
      user: PageConfig.getOption('hubUser') || null,
      actions: {
        open: (entry, n) =>
          void app.commands.execute('docmanager:open', {
            path: versionPath(entry.id, n, entry.name),
            factory: 'Notebook'
          }),
        copy: async (entry, n) => {
          const path = await model.copy(entry.id, n);
          if (path !== null) {
            await app.commands.execute('docmanager:open', { path });
          }
        },
        diff: (entry, base, remote) =>
          void openDiff(model, entry, base, remote),
        publish: () => void app.commands.execute(GalleryCommandIDs.publish)
      }
    });
    addPanelTab(app.commands, {
      sidebar,
      panel,
      model,
      icon: galleryIcon,
      command: GalleryCommandIDs.open,
      trans,
      palette
    });

    const publish = async (context: DocumentRegistry.Context) => {
      const number = await publishNotebook(context, model, workspace, trans);
      if (number !== null) {
        sidebar.activatePanel(panel.id);
      }
    };
    app.commands.addCommand(GalleryCommandIDs.publish, {
      label: trans.__('Publish to Gallery…'),
      caption: trans.__(
        'Publish a read-only version of this notebook to a group'
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      isEnabled: () => current() !== null,
      execute: async () => {
        const context = current();
        if (context !== null) {
          await publish(context);
        }
      }
    });

    app.contextMenu.addItem({
      command: GalleryCommandIDs.publish,
      selector: '.jp-Notebook',
      rank: 60
    });
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (
        widget: IDocumentWidget,
        context: DocumentRegistry.Context
      ): ToolbarButton => {
        const button = new ToolbarButton({
          label: trans.__('Publish'),
          tooltip: trans.__('Publish a read-only version to a group gallery'),
          onClick: () => void publish(context)
        });
        widget.toolbar.addItem('labworks-publish', button);
        return button;
      }
    });
    if (palette) {
      const category = trans.__('Labworks');
      palette.addItem({ command: GalleryCommandIDs.publish, category });
    }
  }
};
