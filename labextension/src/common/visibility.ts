import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import { requestAPI } from '../api';
import { RequestModel } from '../requestModel';

/**
 * What the platform says of an experiment, a registered model or a dataset:
 * its owner and who else may read it (`GET /labworks/<kind>/<key>/visibility`).
 */
export interface IShared {
  name: string;
  owner: string | null;
  /** `private`, `group:<name>` or `public`. */
  visibility: string;
  /** The person owns it: they may change its visibility. */
  yours: boolean;
}

/**
 * What can be shared: an experiment (by id), a registered model (by name),
 * a dataset (by ref, `<owner>/<name>`), a sweep (by id) or a deployment (by
 * endpoint name).
 */
export interface IShareTarget {
  kind: 'experiments' | 'models' | 'datasets' | 'sweeps' | 'deployments';
  key: string;
  /** What the person reads in the dialog's title. */
  name: string;
}

/**
 * One choice of the visibility select.
 */
export interface IVisibilityChoice {
  value: string;
  label: string;
}

/**
 * The state of the "Share" dialog of an experiment, a model or a dataset:
 * who may read it now, the choices (only me, one of my groups, every user),
 * and the change sent to the platform.
 */
export class VisibilityForm extends RequestModel {
  constructor(options: VisibilityForm.IOptions) {
    super();
    this.target = options.target;
    this._groups = options.groups;
    this._trans = options.trans;
    this._settings = options.serverSettings;
  }

  readonly target: IShareTarget;

  /**
   * The platform's answer, once loaded.
   */
  get shared(): IShared | null {
    return this._shared;
  }

  /**
   * The visibility chosen in the form.
   */
  get choice(): string {
    return this._choice;
  }

  get choices(): IVisibilityChoice[] {
    const trans = this._trans;
    const groups = [...this._groups];
    const current = this._shared?.visibility ?? '';
    if (current.startsWith('group:') && !groups.includes(current.slice(6))) {
      groups.push(current.slice(6));
    }
    return [
      { value: 'private', label: trans.__('Only me') },
      ...groups.map(group => ({
        value: `group:${group}`,
        label: trans.__('Members of %1 (read-only)', group)
      })),
      // A sweep is shared with one group or no one (the platform refuses more).
      ...(this.target.kind === 'sweeps'
        ? []
        : [{ value: 'public', label: trans.__('Every user (read-only)') }])
    ];
  }

  get canSubmit(): boolean {
    return (
      !this.busy &&
      this._shared !== null &&
      this._shared.yours &&
      this._choice !== this._shared.visibility
    );
  }

  /**
   * Ask the platform who may read it now.
   */
  async load(): Promise<void> {
    await this.run(async () => {
      this._shared = await requestAPI<IShared>(
        this._endPoint(),
        {},
        this._settings
      );
      this._choice = this._shared.visibility;
    });
  }

  choose(value: string): void {
    this._choice = value;
    this.setError(null);
    this.emitChanged();
  }

  /**
   * Send the chosen visibility; resolves the platform's new answer, or
   * `null` with the reason shown.
   */
  async submit(): Promise<IShared | null> {
    if (!this.canSubmit) {
      return null;
    }
    let result: IShared | null = null;
    await this.run(async () => {
      result = await requestAPI<IShared>(
        this._endPoint(),
        { method: 'PUT', body: JSON.stringify({ visibility: this._choice }) },
        this._settings
      );
      this._shared = result;
    });
    return result;
  }

  private _endPoint(): string {
    const { kind, key } = this.target;
    // A dataset's ref is two parts of the route; other keys are one.
    const parts = kind === 'datasets' ? key.split('/') : [key];
    return [kind, ...parts.map(encodeURIComponent), 'visibility'].join('/');
  }

  private _choice = '';
  private _groups: string[];
  private _settings: ServerConnection.ISettings | undefined;
  private _shared: IShared | null = null;
  private _trans: TranslationBundle;
}

/**
 * A namespace for VisibilityForm statics.
 */
export namespace VisibilityForm {
  export interface IOptions {
    target: IShareTarget;
    /** The person's hub groups (from the workspace facts). */
    groups: string[];
    trans: TranslationBundle;
    serverSettings?: ServerConnection.ISettings;
  }
}

/**
 * Who sees it, as a clause: "only its owner sees it", "members of ml may
 * read it", "every user may read it".
 */
export function describeVisibility(
  visibility: string,
  trans: TranslationBundle
): string {
  if (visibility === 'public') {
    return trans.__('every user may read it');
  }
  if (visibility.startsWith('group:')) {
    return trans.__('members of %1 may read it', visibility.slice(6));
  }
  return trans.__('only its owner sees it');
}
