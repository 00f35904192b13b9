import { Button, refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

/**
 * Props of a panel's refresh button.
 */
export interface IRefreshButtonProps {
  /** What it refreshes, as its accessible name and tooltip. */
  label: string;
  /** Disabled while the model is asking already. */
  busy: boolean;
  onClick(): void;
  /** Text beside the icon, if any. */
  text?: string;
}

/**
 * The refresh button of the panels' toolbars.
 */
export function RefreshButton(props: IRefreshButtonProps): JSX.Element {
  return (
    <Button
      className="jp-Labworks-button"
      minimal
      small
      aria-label={props.label}
      title={props.label}
      disabled={props.busy}
      onClick={props.onClick}
    >
      <refreshIcon.react tag="span" className="jp-Labworks-buttonIcon" />
      {props.text}
    </Button>
  );
}
