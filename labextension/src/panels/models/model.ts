import type { ServerConnection } from '@jupyterlab/services';

import { RequestModel } from '../../requestModel';
import { ModelsClient } from './client';
import { RegistryModel } from './registry';
import type {
  IDeployment,
  IDeploymentDetail,
  IModel,
  ITrafficRequest
} from './types';

/**
 * Milliseconds between two polls while the panel is shown.
 */
export const POLL_MS = 4000;

/**
 * The Models panel's state: the registered models the person can read, the
 * deployments they can call, and the one shown with its servers' live
 * traffic and its changes. It polls while the panel is shown (`watch(true)`)
 * and stops when hidden or disposed.
 *
 * Methods never reject: a failure (the platform's message) is kept in
 * `error`.
 */
export class ModelsModel extends RequestModel {
  constructor(options: ModelsModel.IOptions = {}) {
    super();
    this.client = options.client ?? new ModelsClient(options.serverSettings);
    this._pollMs = options.pollMs ?? POLL_MS;
  }

  readonly client: ModelsClient;

  get models(): ReadonlyArray<IModel> {
    return this._models;
  }

  get deployments(): ReadonlyArray<IDeployment> {
    return this._deployments;
  }

  /**
   * The deployment shown in detail; `null` for the lists.
   */
  get selected(): IDeploymentDetail | null {
    return this._selected;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The registered model opened in detail (its versions, aliases, lineage
   * and history); `null` for the lists.
   */
  get opened(): RegistryModel | null {
    return this._opened;
  }

  /**
   * Open a registered model in detail (`null`: back to the lists).
   */
  async open(name: string | null): Promise<boolean> {
    this._opened?.dispose();
    this._opened = null;
    if (name === null) {
      this.emitChanged();
      return true;
    }
    const opened = new RegistryModel(this.client, name);
    opened.changed.connect(() => this.emitChanged());
    this._opened = opened;
    this.emitChanged();
    return opened.load();
  }

  /**
   * Ask for the models, the deployments and the shown one again.
   */
  async refresh(): Promise<boolean> {
    const ok = await this.run(async () => {
      const [models] = await Promise.all([this.client.models(), this._ask()]);
      this._models = models;
      this._loaded = true;
    });
    this._schedule();
    return ok;
  }

  /**
   * The deployments and the shown one again, quietly (not busy): what the
   * panel polls for the live figures.
   */
  async poll(): Promise<void> {
    try {
      await this._ask();
      this.setError(null);
    } catch (reason) {
      this.setError(this.describe(reason));
    }
    if (!this.isDisposed) {
      this.emitChanged();
      this._schedule();
    }
  }

  /**
   * Show a deployment in detail (`null`: back to the lists).
   */
  async select(name: string | null): Promise<boolean> {
    if (name === null) {
      this._selected = null;
      this.emitChanged();
      return true;
    }
    return this.run(async () => {
      this._selected = await this.client.deployment(name);
    });
  }

  /**
   * Show a deployment just made (the Serve dialog's answer) and list it.
   */
  async show(deployment: IDeploymentDetail): Promise<void> {
    this._selected = deployment;
    this._put(deployment);
    this.emitChanged();
    await this.refresh();
  }

  traffic(request: ITrafficRequest): Promise<boolean> {
    return this._act(name => this.client.traffic(name, request));
  }

  promote(reason: string): Promise<boolean> {
    return this._act(name => this.client.promote(name, reason));
  }

  /**
   * Take the shown deployment down, then show the lists without it.
   */
  async undeploy(): Promise<boolean> {
    const name = this._selected?.name;
    if (name === undefined) {
      return false;
    }
    return this.run(async () => {
      await this.client.undeploy(name);
      this._deployments = this._deployments.filter(d => d.name !== name);
      if (this._selected?.name === name) {
        this._selected = null;
      }
    });
  }

  /**
   * Poll while `shown`; stop otherwise.
   */
  watch(shown: boolean): void {
    this._shown = shown;
    if (!shown) {
      this._stopTimer();
    } else {
      this._schedule();
    }
  }

  dispose(): void {
    this._stopTimer();
    this._opened?.dispose();
    super.dispose();
  }

  private async _ask(): Promise<void> {
    const name = this._selected?.name ?? null;
    const [deployments, selected] = await Promise.all([
      this.client.deployments(),
      name === null ? Promise.resolve(null) : this.client.deployment(name)
    ]);
    this._deployments = deployments;
    // The person may have gone back to the lists while this was asked.
    if (name !== null && this._selected?.name === name) {
      this._selected = selected;
    }
  }

  private async _act(
    work: (name: string) => Promise<IDeploymentDetail>
  ): Promise<boolean> {
    const name = this._selected?.name;
    if (name === undefined) {
      return false;
    }
    return this.run(async () => {
      const deployment = await work(name);
      this._selected = deployment;
      this._put(deployment);
    });
  }

  /**
   * Put a deployment's new state in the list (first when new).
   */
  private _put(deployment: IDeployment): void {
    const index = this._deployments.findIndex(d => d.name === deployment.name);
    this._deployments =
      index < 0
        ? [deployment, ...this._deployments]
        : this._deployments.map((d, i) => (i === index ? deployment : d));
  }

  /**
   * Ask again later while shown; never twice at once.
   */
  private _schedule(): void {
    if (this.isDisposed || !this._shown || this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.poll();
    }, this._pollMs);
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _deployments: IDeployment[] = [];
  private _loaded = false;
  private _models: IModel[] = [];
  private _opened: RegistryModel | null = null;
  private _pollMs: number;
  private _selected: IDeploymentDetail | null = null;
  private _shown = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/**
 * A namespace for ModelsModel statics.
 */
export namespace ModelsModel {
  export interface IOptions {
    client?: ModelsClient;
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between polls while shown. */
    pollMs?: number;
  }
}
