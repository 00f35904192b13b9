import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { formatFromNow, formatTime, knownTimeZones } from '../format';
import { formatProfile } from './labels';
import type { IJobProfile, IPreview } from './types';

/**
 * The parts the "Run as job" and "Edit schedule" dialogs share: a labelled
 * field with its error, the profile choice, the cron fields with the preview
 * of the next runs.
 */

/**
 * A labelled input (`id="jp-Labworks-jobField-<name>"`) with its error under it.
 */
export function Field(props: {
  name: string;
  label: string;
  error?: string;
  hint?: string;
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
      {props.error ? (
        <span
          id={`${id}-error`}
          className="jp-Labworks-fieldError"
          role="alert"
        >
          {props.error}
        </span>
      ) : (
        props.hint && (
          <span className="jp-Labworks-fieldHint">{props.hint}</span>
        )
      )}
    </div>
  );
}

/**
 * The profile to run on: a choice of the profiles jobs can use here (the
 * others disabled, with the reason as their title), or a text field when
 * the profiles could not be listed.
 */
export function ProfileField(props: {
  profiles: IJobProfile[] | null;
  value: string;
  onChange: (name: string) => void;
  trans: TranslationBundle;
  disabled?: boolean;
  error?: string;
}): JSX.Element {
  const { profiles, value, trans } = props;
  const chosen = profiles?.find(p => p.name === value);
  const label = trans.__('Profile');
  if (profiles === null) {
    return (
      <Field name="profile" label={label} error={props.error}>
        <input
          className="jp-mod-styled"
          value={value}
          placeholder={trans.__('the platform’s default')}
          disabled={props.disabled}
          onChange={e => props.onChange(e.target.value)}
        />
      </Field>
    );
  }
  return (
    <Field
      name="profile"
      label={label}
      error={props.error}
      hint={chosen?.description}
    >
      <select
        className="jp-mod-styled"
        value={value}
        disabled={props.disabled}
        onChange={e => props.onChange(e.target.value)}
      >
        {!chosen && <option value={value}>{value || '—'}</option>}
        {profiles.map(p => (
          <option
            key={p.name}
            value={p.name}
            disabled={!p.available}
            title={p.available ? p.description : (p.reason ?? '')}
          >
            {p.available
              ? formatProfile(p, trans)
              : trans.__('%1 — unavailable', formatProfile(p, trans))}
          </option>
        ))}
      </select>
    </Field>
  );
}

/**
 * A cron expression and its time zone, with the next runs under them.
 */
export function CronFields(props: {
  cron: string;
  timezone: string;
  onChange: (key: 'cron' | 'timezone', value: string) => void;
  preview: IPreview | null;
  cronError?: string;
  timezoneError?: string;
  trans: TranslationBundle;
  disabled?: boolean;
}): JSX.Element {
  const { preview, trans } = props;
  return (
    <div className="jp-Labworks-jobGrid">
      <Field
        name="cron"
        label={trans.__('Cron (minute hour day month weekday)')}
        error={props.cronError}
      >
        <input
          className="jp-mod-styled jp-Labworks-cron"
          value={props.cron}
          spellCheck={false}
          disabled={props.disabled}
          onChange={e => props.onChange('cron', e.target.value)}
        />
      </Field>
      <Field
        name="timezone"
        label={trans.__('Time zone')}
        error={props.timezoneError}
      >
        <input
          className="jp-mod-styled"
          value={props.timezone}
          list="jp-Labworks-timezones"
          spellCheck={false}
          disabled={props.disabled}
          onChange={e => props.onChange('timezone', e.target.value)}
        />
      </Field>
      <datalist id="jp-Labworks-timezones">
        {knownTimeZones().map(zone => (
          <option key={zone} value={zone} />
        ))}
      </datalist>
      {preview !== null && !props.cronError && (
        <div
          className="jp-Labworks-preview"
          data-testid="labworks-schedule-preview"
        >
          <span>{trans.__('Next runs:')}</span>
          <ol>
            {preview.next_runs.map(run => (
              <li key={run}>
                {trans.__(
                  '%1 (%2) · %3',
                  formatTime(run, preview.timezone),
                  preview.timezone,
                  formatFromNow(run, trans)
                )}
              </li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}
