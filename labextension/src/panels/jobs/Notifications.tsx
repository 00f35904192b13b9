import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { Field } from '../../common/jobs/fields';
import type { NotificationsModel } from './notifications';
import type { INotifySettings, NotifyEvents } from '../../common/jobs/types';
import { ErrorAlert } from '../../common/loadState';

const EMPTY: INotifySettings = { webhook_url: '', email: '', events: 'failed' };

/**
 * The notification settings of the Jobs panel: a webhook, an e-mail address
 * and which job ends to tell, saved on the platform. The platform's refusal
 * is shown under the form and nothing typed is lost.
 */
export function NotificationsSection(props: {
  model: NotificationsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const saved = model.settings;
  const [values, setValues] = useState<INotifySettings>(saved ?? EMPTY);
  useEffect(() => {
    if (saved !== null) {
      setValues(saved);
    }
  }, [saved]);
  const change = (key: keyof INotifySettings, value: string) =>
    setValues({ ...values, [key]: value });
  const mailOff = saved !== null && saved.email_available === false;
  const disabled = model.busy || saved === null;
  const save = () => void model.save(values);
  return (
    <section
      className="jp-Labworks-notifications"
      data-testid="labworks-notifications"
      aria-busy={model.busy}
    >
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Notifications')}</h3>
      <p className="jp-Labworks-fieldHint">
        {trans.__(
          'Besides the lab’s own notice, the platform can tell you when one of your jobs ends, even with the lab closed.'
        )}
      </p>
      {saved === null && model.error === null && (
        <p className="jp-Labworks-loading">
          {trans.__('Loading your notification settings…')}
        </p>
      )}
      <form
        className="jp-Labworks-notifyForm"
        onSubmit={e => {
          e.preventDefault(); // Enter in a field saves too
          save();
        }}
      >
        <Field
          name="webhook_url"
          label={trans.__('Webhook URL')}
          hint={trans.__(
            'Receives a POST of {"event": "job.ended", "job": {…}}; empty: none.'
          )}
        >
          <input
            className="jp-mod-styled"
            type="url"
            value={values.webhook_url}
            placeholder={trans.__('https://hooks.example.org/…')}
            spellCheck={false}
            disabled={disabled}
            onChange={e => change('webhook_url', e.target.value)}
          />
        </Field>
        <Field
          name="email"
          label={trans.__('E-mail address')}
          hint={
            mailOff
              ? trans.__(
                  'E-mail is not configured on this platform: the address is kept, and mail is sent once it is. To configure it, %1.',
                  saved?.email_setup ?? ''
                )
              : trans.__('Empty: no e-mail.')
          }
        >
          <input
            className="jp-mod-styled"
            type="email"
            value={values.email}
            spellCheck={false}
            disabled={disabled}
            onChange={e => change('email', e.target.value)}
          />
        </Field>
        <Field name="events" label={trans.__('Tell me about')}>
          <select
            className="jp-mod-styled"
            value={values.events}
            disabled={disabled}
            onChange={e => change('events', e.target.value as NotifyEvents)}
          >
            <option value="failed">
              {trans.__('failed and timed-out jobs')}
            </option>
            <option value="finished">{trans.__('every job that ends')}</option>
            <option value="none">{trans.__('nothing')}</option>
          </select>
        </Field>
        <ErrorAlert error={model.error} testId="labworks-notifications-error" />
        <div className="jp-Labworks-jobActions">
          {saved === null && model.error !== null ? (
            <Button
              className="jp-Labworks-button"
              small
              disabled={model.busy}
              onClick={() => void model.refresh()}
            >
              {trans.__('Retry')}
            </Button>
          ) : (
            <Button
              className="jp-Labworks-button"
              small
              disabled={disabled}
              onClick={save}
            >
              {trans.__('Save')}
            </Button>
          )}
          {model.saved && (
            <span className="jp-Labworks-fieldHint" role="status">
              {trans.__('Saved.')}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
