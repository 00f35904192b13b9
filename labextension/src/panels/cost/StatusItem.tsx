import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/apputils';
import React from 'react';

import { costIcon } from '../../icons';
import { meterText, meterTitle } from './format';
import type { CostMeterModel } from './meter';

/**
 * The status-bar meter: this workspace's burn rate, today's and this
 * month's spend, its GPUs' use; a click opens the Cost panel.
 */
export class CostMeterItem extends ReactWidget {
  constructor(options: CostMeterItem.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this._open = options.open;
    this.addClass('jp-Labworks-costMeter');
    this._model.changed.connect(this.update, this);
  }

  dispose(): void {
    this._model.changed.disconnect(this.update, this);
    super.dispose();
  }

  protected render(): JSX.Element | null {
    const summary = this._model.summary;
    if (summary === null) {
      return null;
    }
    const trans = this._trans;
    const stale = this._model.error;
    return (
      <button
        type="button"
        className="jp-Labworks-costMeterButton"
        data-testid="labworks-cost-meter"
        title={
          stale === null
            ? meterTitle(summary, trans)
            : trans.__('Not up to date: %1', stale)
        }
        onClick={this._open}
      >
        <costIcon.react tag="span" className="jp-Labworks-costMeterIcon" />
        <span className="jp-StatusBar-TextItem">
          {meterText(summary, trans)}
        </span>
      </button>
    );
  }

  private _model: CostMeterModel;
  private _open: () => void;
  private _trans: TranslationBundle;
}

/**
 * A namespace for CostMeterItem statics.
 */
export namespace CostMeterItem {
  export interface IOptions {
    model: CostMeterModel;
    trans: TranslationBundle;
    /** Open the Cost panel. */
    open(): void;
  }
}
