import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { describeType } from './params';
import type { IParameterInfo } from '../../common/jobs/types';

/**
 * Props of the parameter fields.
 */
export interface IParameterFieldsProps {
  infos: IParameterInfo[];
  texts: Record<string, string>;
  errors: Record<string, string>;
  onChange: (name: string, text: string) => void;
  trans: TranslationBundle;
  disabled?: boolean;
}

/**
 * One labelled field per parameter, showing its type, its default and its
 * comment; a wrong value is marked and explained under the field.
 */
export function ParameterFields(props: IParameterFieldsProps): JSX.Element {
  const { infos, texts, errors, onChange, trans } = props;
  return (
    <div className="jp-Labworks-jobParameters">
      {infos.map(info => {
        const id = `jp-Labworks-parameter-${info.name}`;
        const error = errors[info.name];
        const text = texts[info.name] ?? '';
        return (
          <div
            key={info.name}
            className="jp-Labworks-jobField"
            data-testid={`labworks-parameter-${info.name}`}
          >
            <label htmlFor={id}>
              <span className="jp-Labworks-jobParameterName">{info.name}</span>{' '}
              <span className="jp-Labworks-jobParameterType">{info.type}</span>
            </label>
            {info.type === 'bool' ? (
              <select
                id={id}
                className="jp-mod-styled"
                value={text.toLowerCase() === 'false' ? 'false' : 'true'}
                disabled={props.disabled}
                onChange={e => onChange(info.name, e.target.value)}
              >
                <option value="true">{trans.__('true')}</option>
                <option value="false">{trans.__('false')}</option>
              </select>
            ) : (
              <input
                id={id}
                className={`jp-mod-styled${error ? ' jp-Labworks-invalid' : ''}`}
                value={text}
                placeholder={
                  info.default_text
                    ? trans.__('default: %1', info.default_text)
                    : describeType(info.type, trans)
                }
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? `${id}-error` : undefined}
                disabled={props.disabled}
                spellCheck={false}
                onChange={e => onChange(info.name, e.target.value)}
              />
            )}
            {error ? (
              <span
                id={`${id}-error`}
                className="jp-Labworks-fieldError"
                role="alert"
              >
                {trans.__('%1 %2', info.name, error)}
              </span>
            ) : (
              <span className="jp-Labworks-fieldHint">
                {[
                  info.help,
                  info.default_text
                    ? trans.__('default %1', info.default_text)
                    : ''
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}
