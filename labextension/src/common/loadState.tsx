import React from 'react';

/**
 * What a model that loads from the platform shows of its state.
 */
export interface ILoadingModel {
  /** The last request's error, for people to read; `null` when it went well. */
  readonly error: string | null;
  /** Whether a first answer came. */
  readonly loaded: boolean;
}

/**
 * An error for people to read, announced to screen readers; nothing without one.
 */
export function ErrorAlert(props: {
  error: string | null;
  testId?: string;
}): JSX.Element | null {
  if (props.error === null) {
    return null;
  }
  return (
    <p
      className="jp-Labworks-errorText"
      role="alert"
      data-testid={props.testId}
    >
      {props.error}
    </p>
  );
}

/**
 * A panel's load state: its model's error, else `loading` until the first
 * answer came.
 */
export function LoadState(props: {
  model: ILoadingModel;
  loading: string;
  errorTestId?: string;
}): JSX.Element {
  const { model } = props;
  return (
    <>
      <ErrorAlert error={model.error} testId={props.errorTestId} />
      {!model.loaded && model.error === null && (
        <p className="jp-Labworks-loading">{props.loading}</p>
      )}
    </>
  );
}
