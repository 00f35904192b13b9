import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useEffect, useId, useReducer, useState } from 'react';

import type { RegisterModelModel } from './registerModel';
import { ServeFields, ServeProgress } from './serveModelView';
import { ErrorAlert } from '../loadState';

/**
 * Props of the "Register model" dialog.
 */
export interface IRegisterModelDialogProps {
  model: RegisterModelModel;
  trans: TranslationBundle;
  /** Close the dialog (Cancel, Close, Escape). */
  onClose(): void;
  /** Show the Models panel (absent: the lab has none). */
  onOpenModels?(): void;
}

/**
 * The "Register model" dialog of a run: which of the run's models, under
 * which registered model name; then "Registered <name> version <n>" or
 * MLflow's error. With "Serve it" (preset: "Register and serve"), the new
 * version is served and followed until its endpoint is ready.
 */
export function RegisterModelDialog(
  props: IRegisterModelDialogProps
): JSX.Element {
  const { model, trans, onClose } = props;
  const [, update] = useReducer((n: number) => n + 1, 0);
  const id = useId(); // one dialog per run page, several pages open at once
  const serving = model.serving;
  const [title] = useState(() =>
    serving.enabled
      ? trans.__('Register and serve')
      : trans.__('Register model')
  );
  useEffect(() => {
    model.changed.connect(update);
    void model.load();
    return () => {
      model.changed.disconnect(update);
    };
  }, [model]);
  const done = model.confirmation;
  const problem = model.loaded ? model.problem : null;
  const chosen = model.choices.find(c => c.key === model.choice);
  const busy = model.busy || serving.busy;
  const deployment = serving.deployment;
  // Served as asked: pressing again would only ask for the same endpoint.
  const served =
    !busy &&
    deployment?.status === 'ready' &&
    deployment.name === serving.endpoint &&
    deployment.version === model.result?.version;
  const action = !serving.enabled
    ? trans.__('Register')
    : model.result !== null
      ? trans.__('Serve')
      : trans.__('Register and serve');
  return (
    <div
      className="jp-Labworks-registerModel"
      role="dialog"
      aria-modal="true"
      aria-labelledby={`${id}-title`}
      data-testid="labworks-register-model"
      onKeyDown={e => {
        if (e.key === 'Escape') {
          onClose();
        }
      }}
    >
      <h3 id={`${id}-title`}>{title}</h3>
      {!model.loaded ? (
        <p className="jp-Labworks-loading">
          {trans.__('Looking for the run’s models…')}
        </p>
      ) : (
        <form
          onSubmit={e => {
            e.preventDefault();
            void model.submit();
          }}
        >
          <label className="jp-Labworks-field">
            <span>{trans.__('Model')}</span>
            <select
              aria-label={trans.__('Model')}
              value={model.choice}
              disabled={model.choices.length === 0 || busy}
              onChange={e => (model.choice = e.target.value)}
            >
              {model.choices.map(c => (
                <option key={c.key} value={c.key}>
                  {c.label} ({c.detail})
                </option>
              ))}
            </select>
          </label>
          {chosen && (
            <p className="jp-Labworks-hint">
              {trans.__('Source: %1', chosen.from.source)}
            </p>
          )}
          <label className="jp-Labworks-field">
            <span>{trans.__('Registered model name')}</span>
            <input
              type="text"
              aria-label={trans.__('Registered model name')}
              list={`${id}-names`}
              value={model.name}
              disabled={busy}
              placeholder={trans.__('a new name, or one of your models')}
              onChange={e => (model.name = e.target.value)}
            />
            <datalist id={`${id}-names`}>
              {model.existing.map(name => (
                <option key={name} value={name} />
              ))}
            </datalist>
          </label>
          {model.name.trim() !== '' && (
            <p className="jp-Labworks-hint">
              {model.isNew
                ? trans.__('A new registered model, private to you.')
                : trans.__('A new version of %1.', model.name.trim())}
            </p>
          )}
          <ServeFields serving={serving} disabled={busy} trans={trans} />
          {problem !== null && model.choices.length === 0 && (
            <p className="jp-Labworks-empty">{problem}</p>
          )}
          <ErrorAlert error={model.error} />
          {done !== null && (
            <p
              className="jp-Labworks-success"
              role="status"
              data-testid="labworks-registered"
            >
              {done}
            </p>
          )}
          {serving.enabled && (
            <ServeProgress
              serving={serving}
              trans={trans}
              onOpenModels={props.onOpenModels}
            />
          )}
          <div className="jp-Labworks-dialogButtons">
            <Button
              className="jp-Labworks-button"
              small
              type="button"
              onClick={onClose}
            >
              {done !== null || served ? trans.__('Close') : trans.__('Cancel')}
            </Button>
            <Button
              className="jp-Labworks-button jp-mod-accept"
              small
              type="submit"
              disabled={problem !== null || busy || served}
            >
              {model.busy
                ? trans.__('Registering…')
                : serving.busy
                  ? trans.__('Serving…')
                  : action}
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}
