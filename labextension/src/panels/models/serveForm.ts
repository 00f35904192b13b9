import { defaultEndpoint, ENDPOINT_NAME } from '../../common/deployments';
import { RequestModel } from '../../requestModel';
import type { ModelsClient } from './client';
import type { IDeploymentDetail, IModel, Task } from './types';

/**
 * The state of the "Serve" dialog of a model's version: the endpoint name,
 * the task type (`''`: the version's tag, else inferred), and the platform's refusal shown
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
