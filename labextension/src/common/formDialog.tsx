import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ISignal } from '@lumino/signaling';

/**
 * A dialog that stays open until its form is accepted: the "Run as job",
 * "Edit schedule" and "Share" dialogs.
 */

/**
 * The state behind a form dialog.
 */
export interface ISubmittable<T> {
  readonly changed: ISignal<unknown, void>;
  /**
   * Whether the accept button may be pressed now.
   */
  readonly canSubmit: boolean;
  /**
   * Check and send the form; `null` when refused (the reasons are shown).
   */
  submit(): Promise<T | null>;
}

/**
 * The body of a form dialog: a React view of its state, rendered again when
 * the state changes; its value is what the accepted form made.
 */
export class FormBody<T>
  extends ReactWidget
  implements Dialog.IBodyWidget<T | null>
{
  constructor(options: FormBody.IOptions<T>) {
    super();
    this.state = options.state;
    this._view = options.view;
    this.addClass(options.className);
    this.state.changed.connect(() => this.update(), this);
  }

  readonly state: ISubmittable<T>;

  /**
   * What the form made; set when the submit succeeded.
   */
  result: T | null = null;

  getValue(): T | null {
    return this.result;
  }

  protected render(): JSX.Element {
    return this._view();
  }

  private _view: () => JSX.Element;
}

/**
 * A namespace for FormBody statics.
 */
export namespace FormBody {
  export interface IOptions<T> {
    state: ISubmittable<T>;
    /** Renders the form for the state as it is. */
    view: () => JSX.Element;
    className: string;
  }
}

/**
 * A dialog whose accept button submits its form: it closes with what the
 * form made, or stays open with the reasons shown until the platform takes
 * it. The accept button is disabled while the form cannot be submitted.
 */
export class FormDialog<T> extends Dialog<T | null> {
  constructor(options: FormDialog.IOptions<T>) {
    super({
      title: options.title,
      body: options.body,
      buttons: [
        Dialog.cancelButton({ label: options.trans.__('Cancel') }),
        Dialog.okButton({ label: options.acceptLabel })
      ],
      focusNodeSelector: 'input'
    });
    this._form = options.body;
    this._form.state.changed.connect(this.onStateChanged, this);
  }

  resolve(index?: number): void {
    if ((index ?? ACCEPT) !== ACCEPT) {
      super.resolve(index);
      return;
    }
    void this._submit();
  }

  /**
   * The accept button, once the dialog is rendered.
   */
  protected get acceptButton(): HTMLButtonElement | null {
    return this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
  }

  /**
   * Keep the accept button in step with the form.
   */
  protected onStateChanged(): void {
    const accept = this.acceptButton;
    if (accept) {
      accept.disabled = !this._form.state.canSubmit;
    }
  }

  private async _submit(): Promise<void> {
    const result = await this._form.state.submit();
    if (result !== null) {
      this._form.result = result;
      super.resolve(ACCEPT);
    }
  }

  private _form: FormBody<T>;
}

const ACCEPT = 1;

/**
 * A namespace for FormDialog statics.
 */
export namespace FormDialog {
  export interface IOptions<T> {
    title: string;
    body: FormBody<T>;
    acceptLabel: string;
    trans: TranslationBundle;
  }
}

/**
 * Show a form dialog; resolves what the accepted form made, or `null` when
 * the person cancelled. `dispose` runs when the dialog is closed.
 */
export async function launchForm<T>(
  dialog: FormDialog<T>,
  dispose: () => void
): Promise<T | null> {
  const result = await dialog.launch().finally(dispose);
  return result.button.accept ? result.value : null;
}
