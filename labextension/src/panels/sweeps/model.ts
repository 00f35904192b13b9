import type { ServerConnection } from '@jupyterlab/services';

import { RequestModel } from '../../requestModel';
import { ExperimentsClient } from '../../common/experiments/client';
import { RegisterModelModel } from '../../common/experiments/registerModel';
import { RegistryClient } from '../../common/experiments/registry';
import type { IRun } from '../../common/experiments/types';
import { JobsClient } from '../../common/jobs/client';
import type { IJobDetail } from '../../common/jobs/types';
import { SweepsClient } from './client';
import type { SweepCosts } from './costs';
import type { ISweep, ISweepDetail, ITrial } from './types';

/**
 * Milliseconds between two polls while a sweep runs.
 */
export const POLL_MS = 3000;

/**
 * Whether the panel should ask again: a listed or the shown sweep runs.
 */
export function shouldPoll(
  sweeps: ReadonlyArray<ISweep>,
  selected: ISweep | null
): boolean {
  return (
    selected?.status === 'running' || sweeps.some(s => s.status === 'running')
  );
}

/**
 * The best trial of a sweep, or `null` while it has none.
 */
export function bestTrial(sweep: ISweepDetail): ITrial | null {
  if (sweep.best_trial === null) {
    return null;
  }
  return sweep.trial_list.find(t => t.number === sweep.best_trial) ?? null;
}

/**
 * The Sweeps panel's state: the sweeps the person can see, the one shown
 * with its trials, and what its owner does to it. It polls while a sweep
 * runs (`start()` begins, `dispose()` ends).
 *
 * Methods never reject: a failure (the platform's message) is kept in
 * `error`.
 */
export class SweepsModel extends RequestModel {
  constructor(options: SweepsModel.IOptions = {}) {
    super();
    this.client = options.client ?? new SweepsClient(options.serverSettings);
    this.jobs = options.jobs ?? new JobsClient(this.client.serverSettings);
    this.experiments = new ExperimentsClient(this.client.serverSettings);
    this._pollMs = options.pollMs ?? POLL_MS;
    this.costs = options.costs ?? null;
  }

  readonly client: SweepsClient;
  readonly jobs: JobsClient;
  readonly experiments: ExperimentsClient;

  /**
   * What each sweep cost, read after each listing; `null`: not shown.
   */
  readonly costs: SweepCosts | null;

  get sweeps(): ReadonlyArray<ISweep> {
    return this._sweeps;
  }

  /**
   * The sweep shown in detail, with its trials; `null` for the list.
   */
  get selected(): ISweepDetail | null {
    return this._selected;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Ask for the list and the shown sweep again.
   */
  async refresh(): Promise<boolean> {
    const ok = await this.run(async () => {
      const id = this._selected?.id ?? null;
      const [sweeps, selected] = await Promise.all([
        this.client.list(),
        id === null ? Promise.resolve(null) : this.client.get(id)
      ]);
      this._sweeps = sweeps;
      // The person may have gone back to the list while this was asked.
      if (id !== null && this._selected?.id === id) {
        this._selected = selected;
      }
      this._loaded = true;
    });
    if (ok) {
      await this._updateCosts();
    }
    this._schedule();
    return ok;
  }

  /**
   * Show a sweep in detail (`null`: back to the list).
   */
  async select(id: string | null): Promise<boolean> {
    if (id === null) {
      this._selected = null;
      this.emitChanged();
      return true;
    }
    const ok = await this.run(async () => {
      this._selected = await this.client.get(id);
    });
    if (ok) {
      await this._updateCosts();
    }
    this._schedule();
    return ok;
  }

  /**
   * Show a sweep just created (the dialog's answer) and list it.
   */
  async show(sweep: ISweepDetail): Promise<void> {
    this._selected = sweep;
    this._put(sweep);
    this.emitChanged();
    await this.refresh();
  }

  stop(): Promise<boolean> {
    return this._act(id => this.client.stop(id));
  }

  resume(): Promise<boolean> {
    return this._act(id => this.client.resume(id));
  }

  extend(trials: number): Promise<boolean> {
    return this._act(id => this.client.extend(id, trials));
  }

  /**
   * Run the best trial's job again as a plain job; resolves it, or `null`
   * with the reason in `error`.
   */
  async rerunBest(): Promise<IJobDetail | null> {
    const best = this._selected === null ? null : bestTrial(this._selected);
    if (best === null) {
      return null;
    }
    let job: IJobDetail | null = null;
    await this.run(async () => {
      job = await this.jobs.rerun(best.job_id, null);
    });
    return job;
  }

  /**
   * Delete the shown sweep, then show the list without it; resolves whether
   * it worked (the reason in `error` when not).
   */
  async delete(): Promise<boolean> {
    const id = this._selected?.id;
    if (id === undefined) {
      return false;
    }
    return this.run(async () => {
      await this.client.delete(id);
      this._sweeps = this._sweeps.filter(s => s.id !== id);
      if (this._selected?.id === id) {
        this._selected = null;
      }
    });
  }

  /**
   * The Experiments panel's "Register model" dialog model for the MLflow run
   * of the shown sweep's best trial; `null` while there is none, or when the
   * run cannot be read (the reason in `error`).
   */
  async registerBest(): Promise<RegisterModelModel | null> {
    const runId = this._selected?.best_run_id ?? null;
    if (runId === null) {
      return null;
    }
    let run: IRun | null = null;
    await this.run(async () => {
      run = await this.experiments.getRun(runId);
    });
    return run === null
      ? null
      : new RegisterModelModel({
          registry: new RegistryClient(this.client.serverSettings),
          experiments: this.experiments,
          run
        });
  }

  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    super.dispose();
  }

  /**
   * Read the costs of the listed and the shown sweep (never rejects).
   */
  private async _updateCosts(): Promise<void> {
    const selected = this._selected;
    const sweeps =
      selected !== null && !this._sweeps.some(s => s.id === selected.id)
        ? [...this._sweeps, selected]
        : this._sweeps;
    if (this.costs !== null && (await this.costs.update(sweeps))) {
      if (!this.isDisposed) {
        this.emitChanged();
      }
    }
  }

  private async _act(
    work: (id: string) => Promise<ISweepDetail>
  ): Promise<boolean> {
    const id = this._selected?.id;
    if (id === undefined) {
      return false;
    }
    const ok = await this.run(async () => {
      const sweep = await work(id);
      this._selected = sweep;
      this._put(sweep);
    });
    this._schedule();
    return ok;
  }

  /**
   * Put a sweep's new state in the list (first when new).
   */
  private _put(sweep: ISweep): void {
    const index = this._sweeps.findIndex(s => s.id === sweep.id);
    this._sweeps =
      index < 0
        ? [sweep, ...this._sweeps]
        : this._sweeps.map((s, i) => (i === index ? sweep : s));
  }

  /**
   * Poll again later while a sweep runs; never twice at once.
   */
  private _schedule(): void {
    if (this.isDisposed || this._timer !== null) {
      return;
    }
    if (!shouldPoll(this._sweeps, this._selected)) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, this._pollMs);
  }

  private _loaded = false;
  private _pollMs: number;
  private _selected: ISweepDetail | null = null;
  private _sweeps: ISweep[] = [];
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

/**
 * A namespace for SweepsModel statics.
 */
export namespace SweepsModel {
  export interface IOptions {
    client?: SweepsClient;
    jobs?: JobsClient;
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between polls while a sweep runs. */
    pollMs?: number;
    /** What each sweep cost (the lab passes one); absent: no costs shown. */
    costs?: SweepCosts | null;
  }
}
