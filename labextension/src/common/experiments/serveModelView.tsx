import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React from 'react';

import { EndpointFields } from '../EndpointFields';
import type { ServeModel } from './serveModel';

/**
 * The "Serve it" fields of the register dialog: the checkbox, then the
 * endpoint name and the task type.
 */
export function ServeFields(props: {
  serving: ServeModel;
  disabled: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { serving, disabled, trans } = props;
  return (
    <>
      <label className="jp-Labworks-check">
        <input
          type="checkbox"
          checked={serving.enabled}
          disabled={disabled}
          onChange={e => (serving.enabled = e.target.checked)}
        />
        {trans.__('Serve it')}
      </label>
      {serving.enabled && (
        <>
          <EndpointFields
            endpoint={serving.endpoint}
            endpointValid={serving.problem === null}
            task={serving.task}
            unsetTask={trans.__('Detect from the model')}
            disabled={disabled}
            fieldClassName="jp-Labworks-field"
            onEndpoint={value => (serving.endpoint = value)}
            onTask={task => (serving.task = task)}
            trans={trans}
          />
        </>
      )}
    </>
  );
}

/**
 * Where the serving is: the endpoint starting, ready at its URL, or why it
 * failed.
 */
export function ServeProgress(props: {
  serving: ServeModel;
  trans: TranslationBundle;
  /** Show the Models panel (absent: the lab has none). */
  onOpenModels?: () => void;
}): JSX.Element | null {
  const { serving, trans, onOpenModels } = props;
  const deployment = serving.deployment;
  if (serving.busy) {
    return (
      <p
        className="jp-Labworks-loading"
        data-testid="labworks-serve-progress"
        aria-live="polite"
      >
        {deployment === null
          ? trans.__('Serving…')
          : trans.__(
              'Starting endpoint %1 (version %2)…',
              deployment.name,
              deployment.version
            )}
      </p>
    );
  }
  if (serving.error !== null) {
    return (
      <p
        className="jp-Labworks-errorText"
        role="alert"
        data-testid="labworks-serve-error"
      >
        {serving.error}
      </p>
    );
  }
  if (deployment?.status !== 'ready') {
    return null;
  }
  return (
    <div
      className="jp-Labworks-served"
      role="status"
      data-testid="labworks-serve-ready"
    >
      <p className="jp-Labworks-success">
        {trans.__(
          'Serving %1 version %2 at endpoint %3, ready:',
          deployment.model,
          deployment.version,
          deployment.name
        )}
      </p>
      <code data-testid="labworks-serve-url">{deployment.url}</code>
      {onOpenModels && (
        <Button
          className="jp-Labworks-button"
          small
          minimal
          type="button"
          onClick={onOpenModels}
        >
          {trans.__('Open in Models panel')}
        </Button>
      )}
    </div>
  );
}
