import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, requestResponse } from '../../api';
import type {
  IArtifactList,
  IExperimentsPage,
  IRun,
  IRunKeys,
  IRunMetric,
  IRunsPage
} from './types';

/**
 * MLflow's REST API through this lab's server.
 */
const MLFLOW = 'mlflow/api/2.0/mlflow';

/**
 * The most runs `metrics/get-history-bulk-interval` takes at once, and the
 * most points it returns per run.
 */
export const HISTORY_MAX_RUNS = 100;
export const HISTORY_MAX_POINTS = 2500;

/**
 * Which runs one page of the runs table asks for.
 */
export interface IRunsQuery {
  experimentIds: string[];
  /** MLflow's search syntax, e.g. `metrics.acc > 0.9 and params.lr = '0.01'`. */
  filter: string;
  /** e.g. `metrics.\`acc\` DESC`; empty: MLflow's order (newest first). */
  orderBy: string[];
  maxResults: number;
  pageToken?: string | null;
  /** The keys whose values the page carries: the table's visible columns. */
  columns: IRunKeys;
}

/**
 * A typed client of the tracking routes of this lab's server: MLflow's REST
 * API (`/labworks/mlflow/api/2.0/mlflow/...`), the runs table's pages, a
 * run's artifact and the CSV export (`/labworks/experiments/...`). Every
 * method rejects with an `APIError` carrying the server's (or MLflow's)
 * message when refused.
 */
export class ExperimentsClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * Active experiments, last updated first; `filter` in MLflow's syntax.
   */
  searchExperiments(
    filter = '',
    pageToken: string | null = null,
    maxResults = 100
  ): Promise<IExperimentsPage> {
    return this._post(`${MLFLOW}/experiments/search`, {
      filter,
      max_results: maxResults,
      order_by: ['last_update_time DESC'],
      view_type: 'ACTIVE_ONLY',
      ...(pageToken ? { page_token: pageToken } : {})
    });
  }

  /**
   * One page of active runs with only `query.columns`' values, and the keys
   * its runs have. tests/benchmarks/bench_runs_table.py times the same
   * request: keep both in step.
   */
  searchRuns(query: IRunsQuery): Promise<IRunsPage> {
    return this._post('experiments/runs/table', {
      experiment_ids: query.experimentIds,
      filter: query.filter,
      max_results: query.maxResults,
      order_by: query.orderBy,
      columns: query.columns,
      ...(query.pageToken ? { page_token: query.pageToken } : {})
    });
  }

  /**
   * Whole runs of `experimentIds` that match `filter` (MLflow's
   * `runs/search`), newest first.
   */
  async findRuns(
    experimentIds: string[],
    filter: string,
    maxResults = 10
  ): Promise<IRun[]> {
    const answer = await this._post<{ runs?: IRun[] }>(
      `${MLFLOW}/runs/search`,
      {
        experiment_ids: experimentIds,
        filter,
        max_results: maxResults,
        order_by: ['attributes.start_time DESC']
      }
    );
    return answer.runs ?? [];
  }

  async getRun(runId: string): Promise<IRun> {
    const answer = await this._get<{ run: IRun }>(
      `${MLFLOW}/runs/get?${new URLSearchParams({ run_id: runId })}`
    );
    return answer.run;
  }

  /**
   * A metric's history for several runs (at most `HISTORY_MAX_RUNS`), each
   * sampled down to at most `HISTORY_MAX_POINTS` steps by MLflow.
   */
  async metricHistory(runIds: string[], key: string): Promise<IRunMetric[]> {
    const params = new URLSearchParams();
    for (const id of runIds.slice(0, HISTORY_MAX_RUNS)) {
      params.append('run_ids', id);
    }
    params.set('metric_key', key);
    params.set('max_results', String(HISTORY_MAX_POINTS));
    const answer = await this._get<{ metrics?: IRunMetric[] }>(
      `${MLFLOW}/metrics/get-history-bulk-interval?${params}`
    );
    return answer.metrics ?? [];
  }

  /**
   * The files and folders directly in `path` of a run's artifacts.
   */
  listArtifacts(runId: string, path = ''): Promise<IArtifactList> {
    const params = new URLSearchParams({ run_id: runId });
    if (path) {
      params.set('path', path);
    }
    return this._get(`${MLFLOW}/artifacts/list?${params}`);
  }

  /**
   * A run's artifact file, as bytes.
   */
  async artifact(runId: string, path: string): Promise<Blob> {
    const response = await requestResponse(
      this.artifactEndPoint(runId, path),
      {},
      this.serverSettings
    );
    return response.blob();
  }

  /**
   * The route of a run's artifact file on this lab's server.
   */
  artifactEndPoint(runId: string, path: string): string {
    return `experiments/runs/${encodeURIComponent(runId)}/artifact?${new URLSearchParams({ path })}`;
  }

  /**
   * The runs as CSV: attributes, then `params.*`, `metrics.*` (latest) and
   * `tags.*` columns.
   */
  async exportCsv(runIds: string[]): Promise<string> {
    const response = await requestResponse(
      'experiments/runs/export',
      { method: 'POST', body: JSON.stringify({ run_ids: runIds }) },
      this.serverSettings
    );
    return response.text();
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this.serverSettings);
  }

  private _post<T>(endPoint: string, body: unknown): Promise<T> {
    return requestAPI<T>(
      endPoint,
      { method: 'POST', body: JSON.stringify(body) },
      this.serverSettings
    );
  }
}
