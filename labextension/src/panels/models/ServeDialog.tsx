import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { FormBody, FormDialog, launchForm } from '../../common/formDialog';
import type { ModelsClient } from './client';
import { ServeForm } from './serveForm';
import { IDeploymentDetail, IModel, Task, TASKS } from './types';

/**
 * Show the "Serve" dialog of a model's version: the endpoint name and the
 * task type. It stays open with the platform's refusal until it serves.
 *
 * Resolves the new deployment, or `null` when cancelled.
 */
export async function serveDialog(options: {
  client: ModelsClient;
  model: IModel;
  version: string;
  trans: TranslationBundle;
}): Promise<IDeploymentDetail | null> {
  const { trans } = options;
  const form = new ServeForm(options);
  const dialog = new FormDialog<IDeploymentDetail>({
    title: trans.__('Serve %1 version %2', options.model.name, options.version),
    body: new FormBody({
      state: form,
      className: 'jp-Labworks-serveBody',
      view: () => <ServeView form={form} trans={trans} />
    }),
    acceptLabel: trans.__('Serve'),
    trans
  });
  return launchForm(dialog, () => form.dispose());
}

/**
 * The dialog's body for the form as it is.
 */
export function ServeView(props: {
  form: ServeForm;
  trans: TranslationBundle;
}): JSX.Element {
  const { form, trans } = props;
  return (
    <div className="jp-Labworks-serve" data-testid="labworks-serve-form">
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Endpoint name')}</span>
        <input
          className="jp-mod-styled"
          value={form.name}
          disabled={form.busy}
          aria-invalid={!form.nameValid}
          onChange={e => form.setName(e.target.value)}
        />
      </label>
      {!form.nameValid && (
        <p className="jp-Labworks-fieldHint">
          {trans.__(
            'Lower-case letters, digits and dashes; a letter or digit first and last; at most 63.'
          )}
        </p>
      )}
      <label className="jp-Labworks-serveField">
        <span>{trans.__('Task type')}</span>
        <select
          className="jp-mod-styled"
          value={form.task}
          disabled={form.busy}
          onChange={e => form.setTask(e.target.value as Task | '')}
        >
          <option value="">
            {trans.__('From the version (its tag or signature)')}
          </option>
          {TASKS.map(task => (
            <option key={task} value={task}>
              {task}
            </option>
          ))}
        </select>
      </label>
      <p className="jp-Labworks-hint">
        {trans.__(
          'The endpoint answers the Open Inference Protocol v2; the task type shapes its outputs (classification: label and scores).'
        )}
      </p>
      {form.busy && (
        <p className="jp-Labworks-loading">{trans.__('Serving…')}</p>
      )}
      {form.error !== null && (
        <p className="jp-Labworks-errorText" role="alert">
          {form.error}
        </p>
      )}
    </div>
  );
}
