import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useEffect, useReducer, useState } from 'react';

import type { ModelsClient } from './client';
import { TryItModel } from './tryItModel';

/**
 * "Try it": one field per input of the endpoint's metadata (its shape and its
 * data as JSON arrays), Send, and the raw answer or the refusal as it is.
 */
export function TryIt(props: {
  client: ModelsClient;
  endpoint: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const [model] = useState(
    () => new TryItModel({ client: props.client, endpoint: props.endpoint })
  );
  const [, update] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    model.changed.connect(update);
    void model.load();
    return () => {
      model.changed.disconnect(update);
      model.dispose();
    };
  }, [model]);
  const metadata = model.metadata;
  return (
    <section
      className="jp-Labworks-tryIt"
      data-testid="labworks-try-it"
      aria-label={trans.__('Try it')}
    >
      {metadata === null ? (
        model.busy ? (
          <p className="jp-Labworks-loading">
            {trans.__('Reading the model’s inputs…')}
          </p>
        ) : (
          <Button small onClick={() => void model.load()}>
            {trans.__('Read the model’s inputs again')}
          </Button>
        )
      ) : (
        <form
          onSubmit={e => {
            e.preventDefault();
            void model.send();
          }}
        >
          {!metadata.inputs?.length && (
            <p className="jp-Labworks-hint">
              {trans.__(
                'The model names no inputs; edit the one below to match it.'
              )}
            </p>
          )}
          {model.fields.map((field, index) => (
            <fieldset
              key={field.name}
              className="jp-Labworks-tryItInput"
              data-testid={`labworks-try-it-input-${field.name}`}
            >
              <legend>
                {field.name} <code>{field.datatype}</code>
              </legend>
              <label className="jp-Labworks-serveField">
                <span>{trans.__('Shape')}</span>
                <input
                  className="jp-mod-styled"
                  aria-label={trans.__('Shape of %1', field.name)}
                  value={field.shape}
                  onChange={e => model.edit(index, { shape: e.target.value })}
                />
              </label>
              <label className="jp-Labworks-tryItData">
                <span>{trans.__('Data (a JSON array)')}</span>
                <textarea
                  className="jp-mod-styled"
                  aria-label={trans.__('Data of %1', field.name)}
                  rows={3}
                  spellCheck={false}
                  value={field.data}
                  onChange={e => model.edit(index, { data: e.target.value })}
                />
              </label>
            </fieldset>
          ))}
          <Button type="submit" small disabled={model.busy}>
            {trans.__('Send')}
          </Button>
        </form>
      )}
      {model.error !== null && (
        <pre
          className="jp-Labworks-tryItResponse jp-mod-error"
          role="alert"
          data-testid="labworks-try-it-error"
        >
          {model.error}
        </pre>
      )}
      {model.response !== null && (
        <pre
          className="jp-Labworks-tryItResponse"
          data-testid="labworks-try-it-response"
        >
          {model.response}
        </pre>
      )}
    </section>
  );
}
