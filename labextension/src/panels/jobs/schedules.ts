import { RequestModel } from '../../requestModel';
import type { JobsClient } from '../../common/jobs/client';
import type { IJob, ISchedule } from '../../common/jobs/types';

/**
 * The Schedules section's state: my schedules and my groups', the open
 * schedule's run history, whether a request is under way and the last error.
 *
 * Methods never reject; a failure is kept in `error`.
 */
export class SchedulesModel extends RequestModel {
  constructor(client: JobsClient) {
    super();
    this.client = client;
  }

  readonly client: JobsClient;

  get schedules(): ISchedule[] {
    return this._schedules;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The id of the schedule whose runs are shown, or `null`.
   */
  get openId(): string | null {
    return this._openId;
  }

  /**
   * The open schedule's jobs, newest first.
   */
  get runs(): IJob[] {
    return this._runs;
  }

  async refresh(): Promise<boolean> {
    return this.run(() => this._reload());
  }

  /**
   * Show a schedule's run history; the same id again hides it.
   */
  async open(id: string | null): Promise<boolean> {
    if (id === null || id === this._openId) {
      this._openId = null;
      this._runs = [];
      this.emitChanged();
      return true;
    }
    this._openId = id;
    this._runs = [];
    return this.run(() => this._reload());
  }

  async setPaused(id: string, paused: boolean): Promise<boolean> {
    return this.run(async () => {
      this._replace(await this.client.setPaused(id, paused));
    });
  }

  /**
   * Show a schedule as it is now (changed elsewhere, e.g. in a dialog).
   */
  put(schedule: ISchedule): void {
    this._replace(schedule);
    this.emitChanged();
  }

  async remove(id: string): Promise<boolean> {
    return this.run(async () => {
      await this.client.deleteSchedule(id);
      if (this._openId === id) {
        this._openId = null;
        this._runs = [];
      }
      await this._reload();
    });
  }

  private _replace(schedule: ISchedule): void {
    this._schedules = this._schedules.map(s =>
      s.id === schedule.id ? schedule : s
    );
  }

  private async _reload(): Promise<void> {
    const listing = await this.client.listSchedules();
    this._schedules = listing.schedules;
    this._loaded = true;
    const open = this._openId;
    if (open !== null && !listing.schedules.some(s => s.id === open)) {
      this._openId = null;
      this._runs = [];
    } else if (open !== null) {
      this._runs = (await this.client.scheduleRuns(open)).jobs;
    }
  }

  private _loaded = false;
  private _openId: string | null = null;
  private _runs: IJob[] = [];
  private _schedules: ISchedule[] = [];
}
