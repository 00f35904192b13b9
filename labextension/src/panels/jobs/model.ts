import type { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { RequestModel } from '../../requestModel';
import { JobsClient, LOG_CHUNK_BYTES } from '../../common/jobs/client';
import { infosOf } from './params';
import {
  hasEnded,
  IJob,
  IJobDetail,
  IJobDiffFiles,
  IParameterInfo,
  JobStatus
} from '../../common/jobs/types';

/**
 * How often the jobs are asked again.
 */
export const POLL_MS = 3000;

/**
 * The most log text kept for the open job; older text is dropped.
 */
export const LOG_KEEP_CHARS = 256 * 1024;

/**
 * Which jobs the panel lists.
 */
export interface IJobFilter {
  /** Only these states; empty: all. */
  statuses: JobStatus[];
  /** Part of the job name or notebook path. */
  search: string;
  /** Only mine, not my groups'. */
  mine: boolean;
}

/**
 * The live tail of the open job's log.
 */
export interface ILogTail {
  jobId: string;
  attempt: number;
  text: string;
  nextOffset: number;
  /** The attempt ended and its whole log is here. */
  complete: boolean;
  /** Older text was dropped to keep the tail short. */
  truncated: boolean;
}

/**
 * The Jobs panel's state: the jobs of the filter, the open job with its log
 * tail, whether a request is under way and the last error. It polls while
 * started, and tells when one of the user's jobs ends (`ended`; not a sweep's trials).
 *
 * Methods never reject (a failure is kept in `error`), except those the
 * read-only drive and the dialogs use, which say so.
 */
export class JobsModel extends RequestModel {
  constructor(options: JobsModel.IOptions = {}) {
    super();
    this.client = new JobsClient(options.serverSettings);
    this._pollMs = options.pollMs ?? POLL_MS;
  }

  readonly client: JobsClient;

  get serverSettings(): ServerConnection.ISettings {
    return this.client.serverSettings;
  }

  get jobs(): IJob[] {
    return this._jobs;
  }

  /**
   * How many jobs match the filter (more than listed when over the limit).
   */
  get total(): number {
    return this._total;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get filter(): IJobFilter {
    return this._filter;
  }

  /**
   * The open job with its history, or `null`.
   */
  get selected(): IJobDetail | null {
    return this._selected;
  }

  /**
   * The declared parameters of the open job (to re-run it with other values).
   */
  get selectedParameters(): IParameterInfo[] | null {
    return this._selectedParameters;
  }

  /**
   * Whether `selectedParameters` are the notebook's declarations (read from
   * the job's output), not just the types of the job's own values.
   */
  get parametersExact(): boolean {
    return this._parametersExact;
  }

  get log(): ILogTail | null {
    return this._log;
  }

  /**
   * Whether the panel shows the jobs (the listing is polled only then).
   */
  get active(): boolean {
    return this._active;
  }
  set active(value: boolean) {
    this._active = value;
  }

  /**
   * Emitted once for each of the user's jobs that ends while the model watches.
   */
  get ended(): ISignal<this, IJob> {
    return this._ended;
  }

  /**
   * Start polling: the user's jobs for ends, and while `active` the listing,
   * the open job and its log.
   */
  start(): void {
    if (this._timer === null && !this.isDisposed) {
      void this.poll();
      this._timer = setInterval(() => void this.poll(), this._pollMs);
    }
  }

  /**
   * One round of polling; the timer calls it, tests may too.
   */
  async poll(): Promise<void> {
    if (this._polling || this.isDisposed) {
      return;
    }
    this._polling = true;
    try {
      await this._watch();
      if (this._active) {
        await this._reload();
        await this._follow();
        this.emitChanged();
      }
    } catch {
      // Polling is best effort: the next round tries again.
    } finally {
      this._polling = false;
    }
  }

  /**
   * Fetch the jobs of the filter (and the open job) again.
   */
  async refresh(): Promise<boolean> {
    return this.run(async () => {
      await this._reload();
      await this._follow();
    });
  }

  async setFilter(filter: Partial<IJobFilter>): Promise<boolean> {
    this._filter = { ...this._filter, ...filter };
    return this.refresh();
  }

  /**
   * Open a job with its history and log; the same id again closes it.
   */
  async select(id: string | null): Promise<boolean> {
    if (id === null || this._selected?.id === id) {
      this._selected = null;
      this._selectedParameters = null;
      this._log = null;
      this.emitChanged();
      return true;
    }
    return this.run(async () => {
      const detail = await this.client.getJob(id);
      this._selected = detail;
      this._selectedParameters = null;
      this._log = null;
      await this._tail();
      await this._loadParameters(detail);
    });
  }

  async cancel(id: string): Promise<boolean> {
    return this.run(async () => {
      const job = await this.client.cancel(id);
      this._update(job);
    });
  }

  /**
   * Run a job again with `parameters` (all values; null: its own); opens the new job.
   */
  async rerun(
    id: string,
    parameters: Record<string, unknown> | null
  ): Promise<IJobDetail | null> {
    let created: IJobDetail | null = null;
    await this.run(async () => {
      created = await this.client.rerun(id, parameters);
      await this._reload();
    });
    if (created !== null) {
      await this.select((created as IJobDetail).id);
    }
    return created;
  }

  /**
   * Write the job's source and output where nbdime's page reads them.
   */
  async diffFiles(id: string): Promise<IJobDiffFiles | null> {
    let files: IJobDiffFiles | null = null;
    await this.run(async () => {
      files = await this.client.diffFiles(id);
    });
    return files;
  }

  /**
   * Keep a new job (submitted from a dialog) in the list and open it.
   */
  async show(job: IJob): Promise<void> {
    this._update(job);
    await this.refresh();
    if (this._selected?.id !== job.id) {
      await this.select(job.id);
    }
  }

  dispose(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
    super.dispose();
  }

  private async _reload(): Promise<void> {
    const { statuses, search, mine } = this._filter;
    const listing = await this.client.listJobs({ statuses, search, mine });
    this._jobs = listing.jobs;
    this._total = listing.total;
    this._loaded = true;
  }

  /**
   * Refresh the open job while it runs, and read more of its log.
   */
  private async _follow(): Promise<void> {
    const open = this._selected;
    if (open === null) {
      return;
    }
    if (!hasEnded(open.status) || !(this._log?.complete ?? true)) {
      const detail = await this.client.getJob(open.id);
      if (this._selected?.id === detail.id) {
        this._selected = detail;
        if (!this._parametersExact && detail.has_output) {
          await this._loadParameters(detail);
        }
      }
    }
    await this._tail();
  }

  /**
   * Read the open job's log from where the tail ended, a few chunks at most.
   */
  private async _tail(): Promise<void> {
    const job = this._selected;
    if (job === null || job.attempt === 0) {
      return;
    }
    for (let round = 0; round < 8; round++) {
      let log = this._log?.jobId === job.id ? this._log : null;
      if (log?.complete) {
        if (log.attempt === job.attempt) {
          return; // the whole log of the latest attempt is here
        }
        log = null; // a retry started: follow its log from the start
      }
      const offset = log?.nextOffset ?? 0;
      const chunk = await this.client.logs(job.id, offset);
      if (this._selected?.id !== job.id) {
        return;
      }
      if (log !== null && chunk.attempt !== log.attempt) {
        this._log = null;
        continue;
      }
      let text = (log?.text ?? '') + chunk.text;
      const truncated =
        (log?.truncated ?? false) || text.length > LOG_KEEP_CHARS;
      if (text.length > LOG_KEEP_CHARS) {
        text = text.slice(text.length - LOG_KEEP_CHARS);
      }
      this._log = {
        jobId: job.id,
        attempt: chunk.attempt,
        text,
        nextOffset: chunk.next_offset,
        complete: chunk.complete,
        truncated
      };
      if (chunk.complete || chunk.next_offset - offset < LOG_CHUNK_BYTES) {
        return; // the end of the log so far
      }
    }
  }

  /**
   * Notice the user's jobs that ended since the last round.
   */
  private async _watch(): Promise<void> {
    const listing = await this.client.listJobs({
      mine: true,
      updatedSince: this._cursor
    });
    for (const job of listing.jobs) {
      const before = this._known.get(job.id);
      const isNew = before === undefined && this._primed;
      // A sweep's trials end by the dozen: the Sweeps panel tells about the sweep instead.
      const ending = isNew || (before !== undefined && !hasEnded(before));
      if (hasEnded(job.status) && ending && job.trigger !== 'sweep') {
        this._ended.emit(job);
      }
      this._known.set(job.id, job.status);
      if (this._cursor === null || job.updated_at > this._cursor) {
        this._cursor = job.updated_at;
      }
      if (this._active) {
        this._update(job);
      }
    }
    this._primed = true;
  }

  /**
   * Put a changed job in the listing and the open job.
   */
  private _update(job: IJob): void {
    const index = this._jobs.findIndex(j => j.id === job.id);
    if (index >= 0) {
      this._jobs = [
        ...this._jobs.slice(0, index),
        job,
        ...this._jobs.slice(index + 1)
      ];
    }
    if (this._selected?.id === job.id) {
      this._selected = { ...this._selected, ...job };
    }
  }

  /**
   * The declared parameters of a job, read from its output notebook; until
   * it has one, the types of its own values.
   */
  private async _loadParameters(job: IJob): Promise<void> {
    let infos = infosOf(job.parameters);
    let exact = false;
    if (job.has_output) {
      try {
        const info = await this.client.jobParameters(job.id);
        if (info.inspectable) {
          infos = info.parameters;
          exact = true;
        }
      } catch {
        // No readable output: keep the job's own values.
      }
    }
    if (this._selected?.id === job.id) {
      this._selectedParameters = infos;
      this._parametersExact = exact;
    }
  }

  private _active = false;
  private _cursor: string | null = null;
  private _ended = new Signal<this, IJob>(this);
  private _filter: IJobFilter = { statuses: [], search: '', mine: false };
  private _jobs: IJob[] = [];
  private _known = new Map<string, JobStatus>();
  private _loaded = false;
  private _parametersExact = false;
  private _log: ILogTail | null = null;
  private _polling = false;
  private _pollMs: number;
  private _primed = false;
  private _selected: IJobDetail | null = null;
  private _selectedParameters: IParameterInfo[] | null = null;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _total = 0;
}

/**
 * A namespace for JobsModel statics.
 */
export namespace JobsModel {
  /**
   * Options to create a JobsModel.
   */
  export interface IOptions {
    /**
     * The settings of the Jupyter server to ask; defaults to the page's.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * Milliseconds between polls; default `POLL_MS`.
     */
    pollMs?: number;
  }
}
