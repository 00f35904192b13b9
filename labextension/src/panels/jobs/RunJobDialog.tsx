import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { formatFromNow, formatTime, knownTimeZones } from './format';
import { ParameterFields } from './ParameterFields';
import { FieldName, RunJobResult, RunJobState } from './runJob';

/**
 * A kernel the dialog offers instead of the notebook's own.
 */
export interface IKernelChoice {
  name: string;
  display_name: string;
}

/**
 * The body of the "Run as job" dialog: a React form over a RunJobState.
 */
export class RunJobBody
  extends ReactWidget
  implements Dialog.IBodyWidget<RunJobResult | null>
{
  constructor(options: RunJobBody.IOptions) {
    super();
    this.state = options.state;
    this._options = options;
    this.addClass('jp-Labworks-runJobBody');
    this.state.changed.connect(() => this.update(), this);
  }

  readonly state: RunJobState;

  /**
   * What was created; set when the submit succeeded.
   */
  result: RunJobResult | null = null;

  getValue(): RunJobResult | null {
    return this.result;
  }

  protected render(): JSX.Element {
    const { trans, kernels, groups } = this._options;
    return (
      <RunJobView
        state={this.state}
        trans={trans}
        kernels={kernels}
        groups={groups}
      />
    );
  }

  private _options: RunJobBody.IOptions;
}

/**
 * A namespace for RunJobBody statics.
 */
export namespace RunJobBody {
  export interface IOptions {
    state: RunJobState;
    trans: TranslationBundle;
    kernels: IKernelChoice[];
    groups: string[];
  }
}

/**
 * The dialog: its accept button checks and submits the form, and the dialog
 * stays open with the errors shown until the platform took the job.
 */
export class RunJobDialog extends Dialog<RunJobResult | null> {
  constructor(body: RunJobBody, trans: TranslationBundle) {
    super({
      title: trans.__('Run as job'),
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Run job') })
      ],
      focusNodeSelector: 'input'
    });
    this.addClass('jp-Labworks-runJobDialog');
    this._form = body;
    this._trans = trans;
    body.state.changed.connect(this._onStateChanged, this);
  }

  resolve(index?: number): void {
    if ((index ?? ACCEPT) !== ACCEPT) {
      super.resolve(index);
      return;
    }
    void this._submit();
  }

  private async _submit(): Promise<void> {
    const result = await this._form.state.submit();
    if (result !== null) {
      this._form.result = result;
      super.resolve(ACCEPT);
    }
  }

  private _onStateChanged(state: RunJobState): void {
    const accept = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
    if (!accept) {
      return;
    }
    const label = accept.querySelector('.jp-Dialog-buttonLabel') ?? accept;
    const text = state.values.scheduled
      ? this._trans.__('Create schedule')
      : this._trans.__('Run job');
    label.textContent = text;
    accept.setAttribute('aria-label', text);
    accept.title = text;
    accept.disabled =
      state.busy || state.info === null || state.loadError !== null;
  }

  private _form: RunJobBody;
  private _trans: TranslationBundle;
}

const ACCEPT = 1;

/**
 * What the "Run as job" dialog needs.
 */
export interface IRunJobDialogOptions extends RunJobState.IOptions {
  kernels: IKernelChoice[];
  groups: string[];
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
  const dialog = new RunJobDialog(
    new RunJobBody({ ...options, state }),
    options.trans
  );
  void state.load();
  const result = await dialog.launch().finally(() => state.dispose());
  return result.button.accept ? result.value : null;
}

/**
 * Props of the form.
 */
export interface IRunJobViewProps {
  state: RunJobState;
  trans: TranslationBundle;
  kernels: IKernelChoice[];
  groups: string[];
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
            texts={state.parameterTexts}
            errors={state.parameterErrors}
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
        <Field name="profile" label={trans.__('Profile')}>
          <input
            className="jp-mod-styled"
            value={v.profile}
            list="jp-Labworks-profiles"
            placeholder={trans.__('the first profile you may use')}
            disabled={disabled}
            onChange={e => state.set('profile', e.target.value)}
          />
        </Field>
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
        <datalist id="jp-Labworks-profiles">
          {v.profile && <option value={v.profile} />}
        </datalist>
      </fieldset>
      <ScheduleFields state={state} trans={trans} />
      {state.submitError !== null && (
        <p
          className="jp-Labworks-errorText"
          role="alert"
          data-testid="labworks-run-job-error"
        >
          {state.submitError}
        </p>
      )}
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
        <div className="jp-Labworks-jobGrid">
          <Field
            name="cron"
            label={trans.__('Cron (minute hour day month weekday)')}
            error={state.fieldErrors.cron ?? state.previewError ?? undefined}
          >
            <input
              className="jp-mod-styled jp-Labworks-cron"
              value={v.cron}
              spellCheck={false}
              disabled={state.busy}
              onChange={e => state.set('cron', e.target.value)}
            />
          </Field>
          <Field
            name="timezone"
            label={trans.__('Time zone')}
            error={state.fieldErrors.timezone}
          >
            <input
              className="jp-mod-styled"
              value={v.timezone}
              list="jp-Labworks-timezones"
              spellCheck={false}
              disabled={state.busy}
              onChange={e => state.set('timezone', e.target.value)}
            />
          </Field>
          <datalist id="jp-Labworks-timezones">
            {knownTimeZones().map(zone => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
          {state.preview !== null && state.previewError === null && (
            <div
              className="jp-Labworks-preview"
              data-testid="labworks-schedule-preview"
            >
              <span>{trans.__('Next runs:')}</span>
              <ol>
                {state.preview.next_runs.map(run => (
                  <li key={run}>
                    {trans.__(
                      '%1 (%2) · %3',
                      formatTime(run, state.preview?.timezone),
                      state.preview?.timezone ?? '',
                      formatFromNow(run, trans)
                    )}
                  </li>
                ))}
              </ol>
            </div>
          )}
        </div>
      )}
    </fieldset>
  );
}

function Field(props: {
  name: string;
  label: string;
  error?: string;
  children: JSX.Element;
}): JSX.Element {
  const id = `jp-Labworks-jobField-${props.name}`;
  const child = React.cloneElement(props.children, {
    id,
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': props.error ? `${id}-error` : undefined,
    className: `${props.children.props.className ?? ''}${
      props.error ? ' jp-Labworks-invalid' : ''
    }`
  });
  return (
    <div className="jp-Labworks-jobField">
      <label htmlFor={id}>{props.label}</label>
      {child}
      {props.error && (
        <span
          id={`${id}-error`}
          className="jp-Labworks-fieldError"
          role="alert"
        >
          {props.error}
        </span>
      )}
    </div>
  );
}
