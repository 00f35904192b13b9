import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import type { IPriceList } from '../../common/cost';
import { ProfilePriceField } from '../../common/costFields';
import { FormBody, FormDialog, launchForm } from '../../common/formDialog';
import { CronFields, Field, ProfileField } from '../../common/jobs/fields';
import { ParameterFields } from './ParameterFields';
import { FieldName, RunJobResult, RunJobState } from './runJob';
import { ErrorAlert } from '../../common/loadState';

/**
 * A kernel the dialog offers instead of the notebook's own.
 */
export interface IKernelChoice {
  name: string;
  display_name: string;
}

/**
 * The "Run as job" dialog: its accept button checks and submits the form,
 * and the dialog stays open with the errors shown until the platform took
 * the job. The button says "Create schedule" when the form makes one.
 */
export class RunJobDialog extends FormDialog<RunJobResult> {
  constructor(options: IRunJobDialogOptions & { state: RunJobState }) {
    const { state, trans } = options;
    super({
      title: trans.__('Run as job'),
      body: new FormBody({
        state,
        className: 'jp-Labworks-runJobBody',
        view: () => (
          <RunJobView
            state={state}
            trans={trans}
            kernels={options.kernels}
            groups={options.groups}
            prices={options.prices}
          />
        )
      }),
      acceptLabel: trans.__('Run job'),
      trans
    });
    this.addClass('jp-Labworks-runJobDialog');
    this._state = state;
    this._trans = trans;
  }

  protected onStateChanged(): void {
    super.onStateChanged();
    const accept = this.acceptButton;
    if (!accept) {
      return;
    }
    const label = accept.querySelector('.jp-Dialog-buttonLabel') ?? accept;
    const text = this._state.values.scheduled
      ? this._trans.__('Create schedule')
      : this._trans.__('Run job');
    label.textContent = text;
    accept.setAttribute('aria-label', text);
    accept.title = text;
  }

  private _state: RunJobState;
  private _trans: TranslationBundle;
}

/**
 * What the "Run as job" dialog needs.
 */
export interface IRunJobDialogOptions extends RunJobState.IOptions {
  kernels: IKernelChoice[];
  groups: string[];
  /** Each profile's price per hour; `null` or absent: none shown. */
  prices?: IPriceList | null;
}

/**
 * Show the "Run as job" dialog for the (saved) notebook at `path`.
 *
 * Resolves what was created, or `null` when the person cancelled.
 */
export async function runJobDialog(
  options: IRunJobDialogOptions
): Promise<RunJobResult | null> {
  const state = new RunJobState(options);
  const dialog = new RunJobDialog({ ...options, state });
  void state.load();
  return launchForm(dialog, () => state.dispose());
}

/**
 * Props of the form.
 */
export interface IRunJobViewProps {
  state: RunJobState;
  trans: TranslationBundle;
  kernels: IKernelChoice[];
  groups: string[];
  prices?: IPriceList | null;
}

/**
 * The form of the "Run as job" dialog.
 */
export function RunJobView(props: IRunJobViewProps): JSX.Element {
  const { state, trans, kernels, groups } = props;
  const v = state.values;
  const info = state.info;
  const disabled = state.busy;
  const field = (name: FieldName, label: string, input: JSX.Element) => (
    <Field name={name} label={label} error={state.fieldErrors[name]}>
      {input}
    </Field>
  );
  return (
    <form
      className="jp-Labworks-runJob"
      data-testid="labworks-run-job"
      aria-busy={state.busy}
      onSubmit={e => e.preventDefault()}
    >
      <p className="jp-Labworks-runJobIntro">
        {trans.__(
          'Runs the saved %1 from top to bottom on the platform, with papermill. It keeps running when you close the lab.',
          state.path
        )}
      </p>
      <fieldset className="jp-Labworks-jobSection">
        <legend>{trans.__('Parameters')}</legend>
        {state.loadError !== null && (
          <p className="jp-Labworks-errorText" role="alert">
            {state.loadError}
          </p>
        )}
        {info === null && state.loadError === null && (
          <p className="jp-Labworks-loading">
            {trans.__('Reading the parameters cell…')}
          </p>
        )}
        {info !== null && !info.has_parameters_cell && (
          <p className="jp-Labworks-empty">
            {trans.__(
              'No cell tagged “parameters”: the notebook runs as it is. To give it parameters, tag the cell that sets them (Property Inspector › Common Tools › Cell Tags).'
            )}
          </p>
        )}
        {info !== null && info.has_parameters_cell && !info.inspectable && (
          <p className="jp-Labworks-empty">
            {trans.__(
              'papermill cannot list the parameters of a %1 notebook; it runs with the cell’s own values.',
              info.language || trans.__('this')
            )}
          </p>
        )}
        {info !== null &&
          info.inspectable &&
          info.has_parameters_cell &&
          info.parameters.length === 0 && (
            <p className="jp-Labworks-empty">
              {trans.__('The parameters cell assigns nothing.')}
            </p>
          )}
        {info !== null && info.inspectable && (
          <ParameterFields
            infos={info.parameters}
            texts={state.parameters.texts}
            errors={state.parameters.errors}
            onChange={(name, text) => state.setParameter(name, text)}
            trans={trans}
            disabled={disabled}
          />
        )}
      </fieldset>
      <fieldset className="jp-Labworks-jobSection jp-Labworks-jobGrid">
        <legend>{trans.__('Job')}</legend>
        {field(
          'name',
          trans.__('Job name'),
          <input
            className="jp-mod-styled"
            value={v.name}
            disabled={disabled}
            onChange={e => state.set('name', e.target.value)}
          />
        )}
        <ProfileField
          profiles={state.profiles}
          value={v.profile}
          onChange={name => state.set('profile', name)}
          trans={trans}
          disabled={disabled}
        />
        <ProfilePriceField
          prices={props.prices}
          profile={v.profile}
          trans={trans}
        />
        <Field name="kernel" label={trans.__('Kernel')}>
          <select
            className="jp-mod-styled"
            value={v.kernel}
            disabled={disabled}
            onChange={e => state.set('kernel', e.target.value)}
          >
            <option value="">
              {info
                ? trans.__('the notebook’s own (%1)', info.kernel_name)
                : trans.__('the notebook’s own')}
            </option>
            {kernels
              .filter(k => k.name !== info?.kernel_name)
              .map(k => (
                <option key={k.name} value={k.name}>
                  {k.display_name}
                </option>
              ))}
          </select>
        </Field>
        {field(
          'timeoutMinutes',
          trans.__('Timeout (minutes)'),
          <input
            className="jp-mod-styled"
            inputMode="decimal"
            value={v.timeoutMinutes}
            placeholder={trans.__('platform default')}
            disabled={disabled}
            onChange={e => state.set('timeoutMinutes', e.target.value)}
          />
        )}
        {field(
          'retries',
          trans.__('Retries after a failure'),
          <input
            className="jp-mod-styled"
            inputMode="numeric"
            value={v.retries}
            disabled={disabled}
            onChange={e => state.set('retries', e.target.value)}
          />
        )}
        {groups.length > 0 && (
          <Field name="group" label={trans.__('Group that may see it')}>
            <select
              className="jp-mod-styled"
              value={v.group}
              disabled={disabled}
              onChange={e => state.set('group', e.target.value)}
            >
              <option value="">{trans.__('only me')}</option>
              {groups.map(g => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          </Field>
        )}
      </fieldset>
      <ScheduleFields state={state} trans={trans} />
      <ErrorAlert error={state.error} testId="labworks-run-job-error" />
    </form>
  );
}

function ScheduleFields(props: {
  state: RunJobState;
  trans: TranslationBundle;
}): JSX.Element {
  const { state, trans } = props;
  const v = state.values;
  return (
    <fieldset className="jp-Labworks-jobSection">
      <legend>{trans.__('Schedule')}</legend>
      <label className="jp-Labworks-jobCheck">
        <input
          type="checkbox"
          checked={v.scheduled}
          disabled={state.busy}
          onChange={e => state.set('scheduled', e.target.checked)}
        />
        {trans.__('Run on a schedule instead of now')}
      </label>
      {v.scheduled && (
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
      )}
    </fieldset>
  );
}
