import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { Task, TASKS } from './deployments';

/**
 * The fields of serving a model's version, in the register dialog's "Serve
 * it" and the Models panel's Serve dialog: the endpoint name (with the rule
 * when it breaks it) and the task type, `''` leaving it to the platform.
 */
export function EndpointFields(props: {
  endpoint: string;
  endpointValid: boolean;
  task: Task | '';
  /** What `''` means where the fields are shown. */
  unsetTask: string;
  disabled: boolean;
  /** The class of each field's label (the panel's or the dialog's layout). */
  fieldClassName: string;
  onEndpoint(value: string): void;
  onTask(task: Task | ''): void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans, disabled } = props;
  return (
    <>
      <label className={props.fieldClassName}>
        <span>{trans.__('Endpoint name')}</span>
        <input
          className="jp-mod-styled"
          type="text"
          aria-label={trans.__('Endpoint name')}
          value={props.endpoint}
          disabled={disabled}
          aria-invalid={!props.endpointValid}
          onChange={e => props.onEndpoint(e.target.value)}
        />
      </label>
      {!props.endpointValid && props.endpoint !== '' && (
        <p className="jp-Labworks-fieldHint">
          {trans.__(
            'Lower-case letters, digits and dashes; a letter or digit first and last; at most 63.'
          )}
        </p>
      )}
      <label className={props.fieldClassName}>
        <span>{trans.__('Task type')}</span>
        <select
          className="jp-mod-styled"
          aria-label={trans.__('Task type')}
          value={props.task}
          disabled={disabled}
          onChange={e => props.onTask(e.target.value as Task | '')}
        >
          <option value="">{props.unsetTask}</option>
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
    </>
  );
}
