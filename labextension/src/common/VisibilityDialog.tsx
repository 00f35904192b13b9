import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import type { IWorkspaceFactsProvider } from '../tokens';
import { FormBody, FormDialog, launchForm } from './formDialog';
import {
  describeVisibility,
  IShared,
  IShareTarget,
  VisibilityForm
} from './visibility';
import { ErrorAlert } from './loadState';

/**
 * Show the "Share" dialog of an experiment, a registered model or a dataset:
 * who may read it now and, for its owner, a choice of who else may.
 *
 * Resolves the new visibility, or `null` when nothing changed.
 */
export async function shareDialog(options: {
  target: IShareTarget;
  /** The workspace facts: the person's groups. */
  workspace: IWorkspaceFactsProvider;
  trans: TranslationBundle;
  serverSettings?: ServerConnection.ISettings;
}): Promise<IShared | null> {
  const { trans, serverSettings } = options;
  // Without the workspace facts the dialog offers no group, only me / everyone.
  const facts = await options.workspace.facts().catch(() => null);
  const form = new VisibilityForm({
    target: options.target,
    groups: facts?.groups ?? [],
    trans,
    serverSettings
  });
  void form.load();
  const dialog = new FormDialog<IShared>({
    title: trans.__('Share %1', options.target.name),
    body: new FormBody({
      state: form,
      className: 'jp-Labworks-shareBody',
      view: () => <VisibilityView form={form} trans={trans} />
    }),
    acceptLabel: trans.__('Save'),
    trans
  });
  return launchForm(dialog, () => form.dispose());
}

/**
 * The dialog's body for the form as it is.
 */
export function VisibilityView(props: {
  form: VisibilityForm;
  trans: TranslationBundle;
}): JSX.Element {
  const { form, trans } = props;
  const shared = form.shared;
  if (shared === null) {
    return form.error !== null ? (
      <p className="jp-Labworks-errorText" role="alert">
        {form.error}
      </p>
    ) : (
      <p className="jp-Labworks-loading">{trans.__('Loading…')}</p>
    );
  }
  const what =
    form.target.kind === 'experiments'
      ? trans.__('its runs, metrics and artifacts')
      : form.target.kind === 'deployments'
        ? trans.__('and call its endpoint')
        : trans.__('its versions and their files');
  return (
    <div className="jp-Labworks-share">
      <p data-testid="labworks-share-now">
        {trans.__(
          'Owned by %1; %2.',
          shared.owner ?? trans.__('nobody known'),
          describeVisibility(shared.visibility, trans)
        )}
      </p>
      {shared.yours ? (
        <label className="jp-Labworks-field">
          <span>{trans.__('Who else may read %1', what)}</span>
          <select
            className="jp-mod-styled"
            aria-label={trans.__('Who may read it')}
            value={form.choice}
            disabled={form.busy}
            onChange={e => form.choose(e.target.value)}
          >
            {form.choices.map(choice => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <p className="jp-Labworks-hint">
          {trans.__('Only its owner can change who sees it.')}
        </p>
      )}
      <ErrorAlert error={form.error} />
    </div>
  );
}
