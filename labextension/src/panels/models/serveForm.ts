import { RequestModel } from '../../requestModel';
import type { ModelsClient } from './client';
import type { IDeploymentDetail, IModel, Task } from './types';

/**
 * An endpoint name as the platform takes it: lower-case letters, digits and
 * dashes, starting and ending with a letter or digit, at most 63.
 */
export const ENDPOINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The endpoint name offered for a model: its name lower-cased (what the
 * platform would choose), anything else than letters, digits and dashes made
 * a dash.
 */
export function defaultEndpoint(model: string): string {
  return model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/**
 * The state of the "Serve" dialog of a model's version: the endpoint name,
 * the task type (`''`: the version's tag), and the platform's refusal shown
 * in the dialog.
 */
export class ServeForm extends RequestModel {
  constructor(options: ServeForm.IOptions) {
    super();
    this.client = options.client;
    this.model = options.model;
    this.version = options.version;
    this._name = defaultEndpoint(options.model.name);
  }

  readonly client: ModelsClient;
  readonly model: IModel;
  readonly version: string;

  get name(): string {
    return this._name;
  }

  /**
   * The chosen task type; `''`: the one the version was registered with.
   */
  get task(): Task | '' {
    return this._task;
  }

  /**
   * Whether the platform takes the name as an endpoint name.
   */
  get nameValid(): boolean {
    return ENDPOINT_NAME.test(this._name);
  }

  get canSubmit(): boolean {
    return !this.busy && this.nameValid;
  }

  setName(name: string): void {
    this._name = name.trim();
    this.setError(null);
    this.emitChanged();
  }

  setTask(task: Task | ''): void {
    this._task = task;
    this.setError(null);
    this.emitChanged();
  }

  /**
   * Serve the version; resolves the new deployment, or `null` with the
   * platform's reason in `error` (a version without a task type, a name
   * taken, ...).
   */
  async submit(): Promise<IDeploymentDetail | null> {
    if (!this.canSubmit) {
      return null;
    }
    let made: IDeploymentDetail | null = null;
    await this.run(async () => {
      made = await this.client.serve({
        model: this.model.name,
        version: this.version,
        name: this._name,
        ...(this._task ? { task: this._task } : {})
      });
    });
    return made;
  }

  private _name: string;
  private _task: Task | '' = '';
}

/**
 * A namespace for ServeForm statics.
 */
export namespace ServeForm {
  export interface IOptions {
    client: ModelsClient;
    model: IModel;
    version: string;
  }
}
