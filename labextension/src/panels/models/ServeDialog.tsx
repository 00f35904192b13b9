import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { EndpointFields } from '../../common/EndpointFields';
import { FormBody, FormDialog, launchForm } from '../../common/formDialog';
import type { ModelsClient } from './client';
import { ServeForm } from './serveForm';
import type { IDeploymentDetail, IModel } from './types';
import { ErrorAlert } from '../../common/loadState';

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
      <EndpointFields
        endpoint={form.name}
        endpointValid={form.nameValid}
        task={form.task}
        unsetTask={trans.__('From the version (its tag or signature)')}
        disabled={form.busy}
        fieldClassName="jp-Labworks-serveField"
        onEndpoint={value => form.setName(value)}
        onTask={task => form.setTask(task)}
        trans={trans}
      />
      {form.busy && (
        <p className="jp-Labworks-loading">{trans.__('Serving…')}</p>
      )}
      <ErrorAlert error={form.error} />
    </div>
  );
}
