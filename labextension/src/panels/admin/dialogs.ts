import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { IAdminGroup, IAdminUser } from './types';

/**
 * What the delete-user dialog returns: who receives what the user owns
 * (`null`: it stays under the deleted user's name).
 */
export interface IDeleteUserChoice {
  transferTo: string | null;
}

/**
 * The body of the delete-user dialog: what deleting does, and to whom what
 * the user owns goes.
 */
class DeleteUserBody
  extends Widget
  implements Dialog.IBodyWidget<IDeleteUserChoice>
{
  constructor(user: IAdminUser, others: string[], trans: TranslationBundle) {
    super();
    this.addClass('jp-Labworks-adminDialog');
    const what = document.createElement('p');
    what.textContent = trans.__(
      'Delete the account %1? Its tokens, servers, jobs and schedules stop at once and it can no longer log in.',
      user.name
    );
    const label = document.createElement('label');
    label.textContent = trans.__('Transfer what they own to…');
    this._to = document.createElement('select');
    this._to.className = 'jp-mod-styled';
    this._to.setAttribute('aria-label', trans.__('Transfer what they own to'));
    const keep = document.createElement('option');
    keep.value = '';
    keep.textContent = trans.__('nobody: keep it under %1', user.name);
    this._to.appendChild(keep);
    for (const name of others) {
      const option = document.createElement('option');
      option.value = option.textContent = name;
      this._to.appendChild(option);
    }
    label.appendChild(this._to);
    this.node.append(what, label);
  }

  getValue(): IDeleteUserChoice {
    return { transferTo: this._to.value || null };
  }

  private _to: HTMLSelectElement;
}

/**
 * Ask whether to delete `user` and who receives what it owns (one of
 * `others`); `null` when cancelled.
 */
export async function confirmDeleteUser(
  user: IAdminUser,
  others: string[],
  trans: TranslationBundle
): Promise<IDeleteUserChoice | null> {
  const result = await showDialog<IDeleteUserChoice>({
    title: trans.__('Delete %1', user.name),
    body: new DeleteUserBody(user, others, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept ? result.value : null;
}

/**
 * Ask whether to delete `group`.
 */
export async function confirmDeleteGroup(
  group: IAdminGroup,
  trans: TranslationBundle
): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Delete group %1', group.name),
    body: trans._n(
      'Delete the group %2? Its %1 member leaves it, and what was shared with it becomes private to its owner.',
      'Delete the group %2? Its %1 members leave it, and what was shared with it becomes private to its owner.',
      group.members.length,
      group.name
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  return result.button.accept;
}
