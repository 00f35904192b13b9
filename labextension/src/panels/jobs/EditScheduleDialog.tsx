import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { FormBody, FormDialog, launchForm } from '../../common/formDialog';
import { EditScheduleState } from './editSchedule';
import { CronFields, ProfileField } from '../../common/jobs/fields';
import { ParameterFields } from './ParameterFields';
import type { ISchedule } from '../../common/jobs/types';
import { ErrorAlert } from '../../common/loadState';

/**
 * Show the "Edit schedule" dialog: when it runs, its parameters and profile.
 *
 * Resolves the changed schedule, or `null` when the person cancelled.
 */
export async function editScheduleDialog(
  options: EditScheduleState.IOptions
): Promise<ISchedule | null> {
  const { trans } = options;
  const state = new EditScheduleState(options);
  const dialog = new FormDialog<ISchedule>({
    title: trans.__('Edit schedule %1', options.schedule.name),
    body: new FormBody({
      state,
      className: 'jp-Labworks-runJobBody',
      view: () => <EditScheduleView state={state} trans={trans} />
    }),
    acceptLabel: trans.__('Save schedule'),
    trans
  });
  dialog.addClass('jp-Labworks-runJobDialog');
  void state.load();
  return launchForm(dialog, () => state.dispose());
}

/**
 * The form of the "Edit schedule" dialog.
 */
export function EditScheduleView(props: {
  state: EditScheduleState;
  trans: TranslationBundle;
}): JSX.Element {
  const { state, trans } = props;
  const v = state.values;
  const form = state.parameters;
  return (
    <form
      className="jp-Labworks-runJob"
      data-testid="labworks-edit-schedule"
      aria-busy={state.busy}
      onSubmit={e => e.preventDefault()}
    >
      <p className="jp-Labworks-runJobIntro">
        {trans.__(
          'Runs the copy of %1 kept when the schedule was made. Changes apply from its next run.',
          state.schedule.notebook_path
        )}
      </p>
      <fieldset className="jp-Labworks-jobSection">
        <legend>{trans.__('When')}</legend>
        <CronFields
          cron={v.cron}
          timezone={v.timezone}
          onChange={(key, value) => state.set(key, value)}
          preview={state.previewError === null ? state.preview : null}
          cronError={state.fieldErrors.cron ?? state.previewError ?? undefined}
          timezoneError={state.fieldErrors.timezone}
          trans={trans}
          disabled={state.busy}
        />
      </fieldset>
      <fieldset className="jp-Labworks-jobSection">
        <legend>{trans.__('Parameters')}</legend>
        {!state.loaded && (
          <p className="jp-Labworks-loading">
            {trans.__('Reading the parameters cell…')}
          </p>
        )}
        {state.parametersNote !== null && (
          <p className="jp-Labworks-empty">{state.parametersNote}</p>
        )}
        {state.loaded && form.infos.length === 0 && (
          <p className="jp-Labworks-empty">
            {trans.__('The notebook takes no parameters.')}
          </p>
        )}
        <ParameterFields
          infos={form.infos}
          texts={form.texts}
          errors={form.errors}
          onChange={(name, text) => state.setParameter(name, text)}
          trans={trans}
          disabled={state.busy}
        />
      </fieldset>
      <fieldset className="jp-Labworks-jobSection jp-Labworks-jobGrid">
        <legend>{trans.__('Job')}</legend>
        <ProfileField
          profiles={state.profiles}
          value={v.profile}
          onChange={name => state.set('profile', name)}
          trans={trans}
          disabled={state.busy}
        />
      </fieldset>
      <ErrorAlert error={state.error} testId="labworks-edit-schedule-error" />
    </form>
  );
}
