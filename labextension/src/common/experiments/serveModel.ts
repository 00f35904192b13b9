import { RequestModel } from '../../requestModel';
import {
  defaultEndpoint,
  DeploymentsClient,
  ENDPOINT_NAME,
  IDeployment,
  Task
} from '../deployments';

/**
 * How often a starting deployment is asked again, in ms.
 */
export const SERVE_POLL_MS = 1000;

/**
 * The "Serve it" part of the register dialog: whether to serve the version
 * once registered, at which endpoint, as which task type (`''`: detected
 * from the model, or the version's tag); then the deployment followed until
 * it is ready or failed.
 *
 * Methods never reject: a refusal (the platform's message: a name taken, no
 * task type, ...) or a failed start is kept in `error`.
 */
export class ServeModel extends RequestModel {
  constructor(options: ServeModel.IOptions) {
    super();
    this.client = options.client;
    this._enabled = options.enabled ?? false;
    this._pollMs = options.pollMs ?? SERVE_POLL_MS;
  }

  readonly client: DeploymentsClient;

  /**
   * Whether the version is served once registered ("Serve it").
   */
  get enabled(): boolean {
    return this._enabled;
  }

  set enabled(value: boolean) {
    this._enabled = value;
    this.setError(null);
    this.emitChanged();
  }

  /**
   * The endpoint name; it follows the registered model's name until edited.
   */
  get endpoint(): string {
    return this._endpoint;
  }

  set endpoint(value: string) {
    this._endpoint = value.trim();
    this._edited = true;
    this.setError(null);
    this.emitChanged();
  }

  /**
   * The chosen task type; `''`: let the platform find it.
   */
  get task(): Task | '' {
    return this._task;
  }

  set task(value: Task | '') {
    this._task = value;
    this.setError(null);
    this.emitChanged();
  }

  /**
   * The deployment made by the last `serve()`, as last seen; `null` before.
   */
  get deployment(): IDeployment | null {
    return this._deployment;
  }

  /**
   * Why the endpoint cannot be asked for yet, or `null` when it can.
   */
  get problem(): string | null {
    if (!ENDPOINT_NAME.test(this._endpoint)) {
      return 'The endpoint name takes lower-case letters, digits and dashes, a letter or digit first and last, at most 63.';
    }
    return null;
  }

  /**
   * Offer the endpoint name made from a registered model's name, unless the
   * person typed one.
   */
  followName(model: string): void {
    if (!this._edited) {
      this._endpoint = defaultEndpoint(model);
    }
  }

  /**
   * Serve `version` of `model` and follow the deployment until it is ready
   * (resolves `true`) or failed (`false`, its reason in `error`).
   */
  serve(model: string, version: string): Promise<boolean> {
    const problem = this.problem;
    if (problem !== null) {
      return this.run(() => Promise.reject(new Error(problem)));
    }
    return this.run(async () => {
      this._deployment = null;
      let current = await this.client.serve({
        model,
        version,
        name: this._endpoint,
        ...(this._task ? { task: this._task } : {})
      });
      this._deployment = current;
      while (current.status === 'starting') {
        this.emitChanged();
        await new Promise(resolve => setTimeout(resolve, this._pollMs));
        if (this.isDisposed) {
          return;
        }
        current = this._deployment = await this.client.deployment(current.name);
      }
      if (current.status !== 'ready') {
        throw new Error(
          current.reason ||
            `The endpoint ${current.name} is ${current.status}: see the Models panel.`
        );
      }
    });
  }

  private _enabled: boolean;
  private _endpoint = '';
  private _edited = false;
  private _task: Task | '' = '';
  private _deployment: IDeployment | null = null;
  private readonly _pollMs: number;
}

/**
 * A namespace for ServeModel statics.
 */
export namespace ServeModel {
  export interface IOptions {
    client: DeploymentsClient;
    /** Whether "Serve it" starts checked. */
    enabled?: boolean;
    /** How often a starting deployment is asked again, in ms. */
    pollMs?: number;
  }
}
