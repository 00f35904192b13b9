import { ReactWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * A model a panel renders: it says when it changed.
 */
export interface IWatchedModel {
  readonly changed: ISignal<unknown, void>;
}

/**
 * A model a panel loads once: whether it has its data, failed, or is loading.
 */
export interface ILoadableModel extends IWatchedModel {
  readonly loaded: boolean;
  readonly error: string | null;
  readonly busy: boolean;
  refresh(): Promise<unknown>;
}

/**
 * Ask a model for its data unless it has it, failed (the panel then shows
 * the error and a retry) or is asking already.
 */
export function loadOnce(model: ILoadableModel): void {
  if (!model.loaded && model.error === null && !model.busy) {
    void model.refresh();
  }
}

/**
 * Base of the sidebar panels: a React widget that renders again whenever one
 * of its models changes, and that loads only when it is shown, not when the
 * lab starts (a collapsed section asks nothing).
 *
 * Subclasses `watch()` their models and implement `onVisible()`, called each
 * time the panel becomes visible (shown, or attached while visible); it
 * usually calls `loadOnce()`. `onHidden()` is called when it is hidden.
 */
export abstract class LazyPanel extends ReactWidget {
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    Signal.clearData(this);
    super.dispose();
  }

  /**
   * Render the panel again whenever one of these models changes.
   */
  protected watch(...models: IWatchedModel[]): void {
    for (const model of models) {
      model.changed.connect(this._onModelChanged, this);
    }
  }

  /**
   * The panel became visible.
   */
  protected abstract onVisible(): void;

  /**
   * The panel was hidden.
   */
  protected onHidden(): void {
    // Nothing by default.
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.onVisible();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this.onVisible();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.onHidden();
  }

  private _onModelChanged(): void {
    this.update();
  }
}
