import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';

/**
 * One version of a dataset: an immutable list of files.
 */
export interface IDatasetVersion {
  number: number;
  /** `sha256:<hex>` over the sorted manifest. */
  digest: string;
  /** Total bytes of its files. */
  size: number;
  file_count: number;
  message: string;
  created_by: string;
  created_at: string;
}

/**
 * A dataset of the platform's catalog, named `<owner>/<name>` (its ref).
 */
export interface IDataset {
  ref: string;
  owner: string;
  name: string;
  description: string;
  /** `private`, `group:<name>` or `public`. */
  visibility: string;
  /** The person owns it: they may push to it and share it. */
  yours: boolean;
  latest_version: number | null;
  created_at: string;
  updated_at: string;
  /** Newest first; empty in the list. */
  versions: IDatasetVersion[];
}

/**
 * One file of a version.
 */
export interface IDatasetFile {
  path: string;
  sha256: string;
  size: number;
}

/**
 * A version with its files, sorted by path.
 */
export interface IVersionDetail extends IDatasetVersion {
  ref: string;
  files: IDatasetFile[];
}

/**
 * A typed client of this lab's dataset routes (`/labworks/datasets/...`),
 * which read the platform's catalog. Every method rejects with an
 * `APIError` carrying the platform's message when refused.
 */
export class DatasetsClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * The datasets the person may read, last updated first.
   */
  async list(): Promise<IDataset[]> {
    const answer = await this._get<{ datasets: IDataset[] }>('datasets');
    return answer.datasets;
  }

  /**
   * A dataset with its versions, newest first.
   */
  get(ref: string): Promise<IDataset> {
    return this._get(datasetEndPoint(ref));
  }

  /**
   * One version with its files.
   */
  version(ref: string, number: number): Promise<IVersionDetail> {
    return this._get(`${datasetEndPoint(ref)}/versions/${number}`);
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this.serverSettings);
  }
}

/**
 * The route of a dataset below `/labworks/`: `datasets/<owner>/<name>`, each
 * part escaped.
 */
export function datasetEndPoint(ref: string): string {
  return ['datasets', ...ref.split('/').map(encodeURIComponent)].join('/');
}

/**
 * The lines a notebook runs to read a version.
 */
export function codeSnippet(ref: string, version: number): string {
  return `from labworks import data\npath = data.get("${ref}", version=${version})`;
}
