import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';
import type {
  IInspectResult,
  IJobDetail,
  IJobDiffFiles,
  IJobList,
  IJobOutput,
  IJobRuns,
  IJobProfile,
  IJobRequest,
  ILogChunk,
  IPreview,
  ISchedule,
  IScheduleRequest,
  IScheduleUpdate,
  INotifySettings,
  JobStatus
} from './types';

/**
 * How much of a log one request asks for.
 */
export const LOG_CHUNK_BYTES = 64 * 1024;

/**
 * Which jobs a listing asks for.
 */
export interface IJobQuery {
  statuses?: JobStatus[];
  /** Part of the job name or notebook path. */
  search?: string;
  /** Only mine, not my groups'. */
  mine?: boolean;
  /** Only jobs changed after this time (a job's `updated_at`). */
  updatedSince?: string | null;
  limit?: number;
}

/**
 * A typed client of the jobs, schedules and profiles routes of this lab's
 * server (`/labworks/jobs/...`, `/labworks/schedules/...`,
 * `/labworks/profiles`). Every method rejects with an `APIError` carrying the
 * server's message when a route refuses.
 */
export class JobsClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  listJobs(query: IJobQuery = {}): Promise<IJobList> {
    const params = new URLSearchParams();
    for (const status of query.statuses ?? []) {
      params.append('status', status);
    }
    if (query.search) {
      params.set('q', query.search);
    }
    if (query.mine) {
      params.set('mine', 'true');
    }
    if (query.updatedSince) {
      params.set('updated_since', query.updatedSince);
    }
    params.set('limit', String(query.limit ?? 100));
    return this._get(`jobs?${params.toString()}`);
  }

  getJob(id: string): Promise<IJobDetail> {
    return this._get(`jobs/${id}`);
  }

  /**
   * At most `limit` bytes of the job's log from byte `offset`.
   */
  logs(
    id: string,
    offset: number,
    limit = LOG_CHUNK_BYTES
  ): Promise<ILogChunk> {
    return this._get(`jobs/${id}/logs?offset=${offset}&limit=${limit}`);
  }

  output(id: string): Promise<IJobOutput> {
    return this._get(`jobs/${id}/output`);
  }

  /**
   * The parameters the job's notebook declares (read from its output).
   */
  jobParameters(id: string): Promise<IInspectResult> {
    return this._get(`jobs/${id}/parameters`);
  }

  /**
   * The ids of the MLflow runs the job logged that this user may read,
   * newest first.
   */
  runs(id: string): Promise<IJobRuns> {
    return this._get(`jobs/${id}/runs`);
  }

  cancel(id: string): Promise<IJobDetail> {
    return this._post(`jobs/${id}/cancel`, {});
  }

  /**
   * Run the job's notebook again; `parameters` are all values (null: the job's own).
   */
  rerun(
    id: string,
    parameters: Record<string, unknown> | null
  ): Promise<IJobDetail> {
    return this._post(`jobs/${id}/rerun`, { parameters });
  }

  diffFiles(id: string): Promise<IJobDiffFiles> {
    return this._post(`jobs/${id}/diff-files`, {});
  }

  /**
   * The parameters of the notebook at `path` in this workspace.
   */
  inspect(path: string): Promise<IInspectResult> {
    return this._get(`jobs/inspect?path=${encodeURIComponent(path)}`);
  }

  submit(request: IJobRequest): Promise<IJobDetail> {
    return this._post('jobs', request);
  }

  listSchedules(): Promise<{ schedules: ISchedule[] }> {
    return this._get('schedules');
  }

  createSchedule(request: IScheduleRequest): Promise<ISchedule> {
    return this._post('schedules', request);
  }

  preview(cron: string, timezone: string, count = 3): Promise<IPreview> {
    return this._post('schedules/preview', { cron, timezone, count });
  }

  updateSchedule(id: string, update: IScheduleUpdate): Promise<ISchedule> {
    return this._send('PATCH', `schedules/${id}`, update);
  }

  /**
   * The parameters the schedule's notebook declares.
   */
  scheduleParameters(id: string): Promise<IInspectResult> {
    return this._get(`schedules/${id}/parameters`);
  }

  setPaused(id: string, paused: boolean): Promise<ISchedule> {
    return this._post(`schedules/${id}/${paused ? 'pause' : 'resume'}`, {});
  }

  deleteSchedule(id: string): Promise<void> {
    return requestAPI<void>(
      `schedules/${id}`,
      { method: 'DELETE' },
      this.serverSettings
    );
  }

  scheduleRuns(id: string, limit = 20): Promise<IJobList> {
    return this._get(`schedules/${id}/runs?limit=${limit}`);
  }

  /**
   * The workspace profiles, with whether jobs can run on each here.
   */
  profiles(): Promise<{ profiles: IJobProfile[] }> {
    return this._get('profiles');
  }

  notificationSettings(): Promise<INotifySettings> {
    return this._get('jobs/notifications');
  }

  saveNotificationSettings(
    settings: INotifySettings
  ): Promise<INotifySettings> {
    return this._send('PUT', 'jobs/notifications', settings);
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this.serverSettings);
  }

  private _post<T>(endPoint: string, body: unknown): Promise<T> {
    return this._send('POST', endPoint, body);
  }

  private _send<T>(
    method: string,
    endPoint: string,
    body: unknown
  ): Promise<T> {
    return requestAPI<T>(
      endPoint,
      { method, body: JSON.stringify(body) },
      this.serverSettings
    );
  }
}
