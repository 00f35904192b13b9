import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, closeIcon, shareIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import React from 'react';

import type { IShare, SharingModel } from './sharing';
import { ErrorAlert } from '../../common/loadState';

/**
 * The command that opens the share dialog.
 */
export const SHARE_COMMAND = 'labworks:share-workspace';

/**
 * What the share dialog returns.
 */
export interface IShareTarget {
  kind: IShare['kind'];
  name: string;
}

/**
 * The body of the share dialog: user or group, and a name.
 */
export class ShareForm
  extends Widget
  implements Dialog.IBodyWidget<IShareTarget>
{
  constructor(trans: TranslationBundle) {
    super();
    this.addClass('jp-Labworks-shareForm');
    const kindLabel = document.createElement('label');
    kindLabel.textContent = trans.__('Share with');
    this._kind = document.createElement('select');
    this._kind.className = 'jp-mod-styled';
    this._kind.setAttribute(
      'aria-label',
      trans.__('Share with a user or a group')
    );
    for (const [value, text] of [
      ['user', trans.__('a user')],
      ['group', trans.__('a group')]
    ]) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = text;
      this._kind.appendChild(option);
    }
    kindLabel.appendChild(this._kind);
    const nameLabel = document.createElement('label');
    nameLabel.textContent = trans.__('Name');
    this._name = document.createElement('input');
    this._name.className = 'jp-mod-styled jp-Labworks-shareName';
    this._name.setAttribute('aria-label', trans.__('User or group name'));
    this._name.placeholder = trans.__('e.g. bob or ml-team');
    this._name.autocomplete = 'off';
    nameLabel.appendChild(this._name);
    const note = document.createElement('p');
    note.className = 'jp-Labworks-shareNote';
    note.textContent = trans.__(
      'They can open this workspace and run code in it, as you. Revoke it any time.'
    );
    this.node.append(kindLabel, nameLabel, note);
  }

  getValue(): IShareTarget {
    return {
      kind: this._kind.value === 'group' ? 'group' : 'user',
      name: this._name.value.trim()
    };
  }

  private _kind: HTMLSelectElement;
  private _name: HTMLInputElement;
}

/**
 * Ask for a user or group and share the workspace with them.
 *
 * Resolves whether a share was made; a failure shows in the model's error.
 */
export async function shareWorkspace(
  model: SharingModel,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog<IShareTarget>({
    title: trans.__('Share workspace'),
    body: new ShareForm(trans),
    focusNodeSelector: 'input',
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Share') })
    ]
  });
  const target = result.value;
  if (!result.button.accept || !target || !target.name) {
    return false;
  }
  return model.share(target.kind, target.name);
}

/**
 * Add the Share Workspace command (and its palette item).
 */
export function addSharingCommands(
  app: JupyterFrontEnd,
  model: SharingModel,
  trans: TranslationBundle,
  reveal: () => void,
  palette: ICommandPalette | null
): void {
  app.commands.addCommand(SHARE_COMMAND, {
    label: trans.__('Share Workspace…'),
    caption: trans.__('Let a user or a group open this workspace'),
    icon: shareIcon,
    describedBy: { args: { type: 'object', properties: {} } },
    execute: async () => {
      reveal();
      await shareWorkspace(model, trans);
    }
  });
  palette?.addItem({ command: SHARE_COMMAND, category: trans.__('Labworks') });
}

/**
 * Props of the Sharing section.
 */
export interface ISharingSectionProps {
  model: SharingModel;
  trans: TranslationBundle;
  /**
   * Open the share dialog (the panel passes `shareWorkspace`).
   */
  onShare: () => void;
}

/**
 * The Sharing section of the Workspace panel: who it is shared with, a
 * revoke button per row, and the Share Workspace button.
 */
export function SharingSection(props: ISharingSectionProps): JSX.Element {
  const { model, trans, onShare } = props;
  const last = model.lastShared;
  return (
    <section
      className="jp-Labworks-sharing"
      data-testid="labworks-sharing"
      aria-label={trans.__('Sharing')}
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-sectionHeader">
        <h3 className="jp-Labworks-sectionTitle">{trans.__('Sharing')}</h3>
        <Button
          className="jp-Labworks-button"
          small
          disabled={model.busy}
          onClick={onShare}
          title={trans.__('Let a user or a group open this workspace')}
        >
          <shareIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('Share workspace')}
        </Button>
      </div>
      <ErrorAlert error={model.error} />
      {last !== null && model.url !== null && (
        <p
          className="jp-Labworks-sharedNotice"
          data-testid="labworks-shared-url"
        >
          {trans.__('Shared with %1 %2. They open it at', last.kind, last.name)}{' '}
          <a href={model.url} target="_blank" rel="noopener noreferrer">
            {model.url}
          </a>
        </p>
      )}
      {model.loaded && model.shares.length === 0 && (
        <p className="jp-Labworks-empty">
          {trans.__('Not shared with anyone.')}
        </p>
      )}
      {model.shares.length > 0 && (
        <ul
          className="jp-Labworks-shareList"
          aria-label={trans.__('Shared with')}
        >
          {model.shares.map(share => (
            <ShareRow
              key={`${share.kind}:${share.name}`}
              share={share}
              model={model}
              trans={trans}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function ShareRow(props: {
  share: IShare;
  model: SharingModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { share, model, trans } = props;
  const kind = share.kind === 'group' ? trans.__('group') : trans.__('user');
  return (
    <li
      className="jp-Labworks-shareRow"
      data-testid={`labworks-share-${share.kind}-${share.name}`}
    >
      <span className="jp-Labworks-shareKind">{kind}</span>
      <span className="jp-Labworks-shareWho">{share.name}</span>
      <Button
        className="jp-Labworks-button"
        minimal
        small
        disabled={model.busy}
        aria-label={trans.__('Revoke access of %1 %2', kind, share.name)}
        title={trans.__('Revoke access of %1 %2', kind, share.name)}
        onClick={() => void model.revoke(share.kind, share.name)}
      >
        <closeIcon.react tag="span" className="jp-Labworks-buttonIcon" />
        {trans.__('Revoke')}
      </Button>
    </li>
  );
}
