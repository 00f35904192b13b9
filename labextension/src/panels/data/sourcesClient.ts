import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../../api';

/**
 * What the person may do with a source: nothing but see it in the catalog,
 * read it, read and write it, or manage it (its owner).
 */
export type SourceAccess = 'none' | 'read' | 'write' | 'owner';

/**
 * A data source of the platform's catalog: a folder, an S3 bucket (and
 * prefix) or a PostgreSQL database. Its credentials never leave the platform.
 */
export interface ISource {
  name: string;
  kind: 'folder' | 's3' | 'postgres';
  owner: string;
  description: string;
  tags: string[];
  /** The non-secret settings (bucket, host, ...). */
  config: Record<string, unknown>;
  has_credentials: boolean;
  /** The person's access. */
  access: SourceAccess;
  created_at: string;
  updated_at: string;
}

/**
 * One entry of a listing: a file or folder, or a schema or table.
 */
export interface ISourceEntry {
  path: string;
  kind: 'file' | 'dir' | 'schema' | 'table';
  size: number | null;
  modified: string | null;
  /** A table's estimated row count. */
  rows: number | null;
}

/**
 * One level of a source below a prefix (at most 1,000 entries).
 */
export interface ISourceListing {
  entries: ISourceEntry[];
  truncated: boolean;
}

/**
 * A column of a preview or query: its name and type.
 */
export interface IColumn {
  name: string;
  type: string;
}

/**
 * The start of a file or table, as the platform reads it (bounded).
 */
export interface IPreview {
  path: string;
  format: 'csv' | 'parquet' | 'jsonl' | 'text' | 'image' | 'table' | 'binary';
  columns: IColumn[];
  rows: unknown[][];
  /** The exact row count where it is cheap, else `null`. */
  row_count: number | null;
  truncated: boolean;
  text: string | null;
  /** A thumbnail, `data:image/png;base64,...`. */
  image: string | null;
  size: number | null;
}

/**
 * A grant of a source to a user or a group.
 */
export interface IGrant {
  /** `user:<name>` or `group:<name>`. */
  principal: string;
  access: 'read' | 'write';
  granted_by: string;
  granted_at: string;
}

/**
 * A request for access to a source, answered by a grant.
 */
export interface IAccessRequest {
  id: number | string;
  source: string;
  user: string;
  access: 'read' | 'write';
  reason: string;
  status: string;
  created_at: string;
}

/**
 * One access to a source, allowed or refused.
 */
export interface IAuditEntry {
  at: string;
  user: string;
  action: string;
  object: string;
  bytes: number | null;
  rows: number | null;
  allowed: boolean;
  reason: string | null;
  origin: string | null;
}

/**
 * Who read a source and what: every access, and totals by user and object.
 */
export interface IAudit {
  entries: IAuditEntry[];
  by_user: {
    user: string;
    reads: number;
    bytes: number;
    rows: number;
    refused: number;
  }[];
  by_object: { object: string; reads: number; bytes: number; rows: number }[];
}

/**
 * A typed client of this lab's source routes (`/labworks/sources/...`), which
 * the server relays to the platform. Every method rejects with an `APIError`
 * carrying the platform's message when refused (a 403 names the owner).
 */
export class SourcesClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * Every source of the catalog, with the person's access to each.
   */
  async list(): Promise<ISource[]> {
    return (await this._call<{ sources: ISource[] }>('sources')).sources;
  }

  /**
   * One level of a source below `prefix` ('' for its root).
   */
  entries(name: string, prefix: string): Promise<ISourceListing> {
    return this._call(`${sourceEndPoint(name, 'list')}?${query({ prefix })}`);
  }

  /**
   * The first `limit` rows of a file or table, a text's start or an image.
   */
  preview(name: string, path: string, limit = 50): Promise<IPreview> {
    const args = query({ path, limit: String(limit) });
    return this._call(`${sourceEndPoint(name, 'preview')}?${args}`);
  }

  /**
   * Ask the source's owner for access.
   */
  requestAccess(
    name: string,
    reason: string,
    access: 'read' | 'write'
  ): Promise<IAccessRequest> {
    return this._call(sourceEndPoint(name, 'requests'), 'POST', {
      reason,
      access
    });
  }

  /**
   * The requests on the sources the person manages, and their own.
   */
  async requests(): Promise<IAccessRequest[]> {
    const answer = await this._call<{ requests: IAccessRequest[] }>(
      'sources/requests'
    );
    return answer.requests;
  }

  async grants(name: string): Promise<IGrant[]> {
    const answer = await this._call<{ grants: IGrant[] }>(
      sourceEndPoint(name, 'grants')
    );
    return answer.grants;
  }

  /**
   * Grant `principal` (`user:<name>` or `group:<name>`) read or write access.
   */
  grant(
    name: string,
    principal: string,
    access: 'read' | 'write'
  ): Promise<IGrant> {
    return this._call(sourceEndPoint(name, 'grants'), 'PUT', {
      principal,
      access
    });
  }

  async revoke(name: string, principal: string): Promise<void> {
    await this._call(
      `${sourceEndPoint(name, 'grants')}/${encodeURIComponent(principal)}`,
      'DELETE'
    );
  }

  /**
   * Who read the source and what (its owner's and administrators').
   */
  audit(name: string): Promise<IAudit> {
    return this._call(sourceEndPoint(name, 'audit'));
  }

  private _call<T>(endPoint: string, method = 'GET', body?: unknown) {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }
}

/**
 * The route of a source (and of an action on it) below `/labworks/`.
 */
export function sourceEndPoint(name: string, action?: string): string {
  const base = `sources/${encodeURIComponent(name)}`;
  return action ? `${base}/${action}` : base;
}

function query(args: Record<string, string>): string {
  return new URLSearchParams(args).toString();
}

/**
 * The last part of an entry's path, as a listing shows it.
 */
export function entryName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/**
 * The formats a snippet reads with pandas, by file extension.
 */
const EXTENSIONS: [RegExp, IPreview['format']][] = [
  [/\.csv(\.gz)?$/i, 'csv'],
  [/\.parquet$/i, 'parquet'],
  [/\.(jsonl|ndjson)(\.gz)?$/i, 'jsonl']
];

/**
 * The lines a notebook runs to read an entry of a source: a table through
 * `sources.read_table`, CSV, Parquet and JSON lines through pandas, anything
 * else as bytes. `format` is the preview's, when there is one.
 */
export function sourceSnippet(
  source: string,
  entry: Pick<ISourceEntry, 'path' | 'kind'>,
  format?: IPreview['format']
): string {
  const head = 'from labworks import sources';
  if (entry.kind === 'table' || format === 'table') {
    const table = entry.path.split('/').filter(Boolean).join('.');
    return `${head}\ndf = sources.read_table(${JSON.stringify(source)}, ${JSON.stringify(table)}, limit=1000)`;
  }
  const path = JSON.stringify(`${source}/${entry.path}`);
  const kind =
    format ?? EXTENSIONS.find(([pattern]) => pattern.test(entry.path))?.[1];
  const pandas = `${head}\nimport pandas as pd\n`;
  if (kind === 'csv') {
    return `${pandas}df = pd.read_csv(sources.open(${path}))`;
  }
  if (kind === 'parquet') {
    return `${pandas}df = pd.read_parquet(${JSON.stringify(`labworks://${source}/${entry.path}`)})`;
  }
  if (kind === 'jsonl') {
    return `${pandas}df = pd.read_json(sources.open(${path}), lines=True)`;
  }
  return `${head}\nwith sources.open(${path}) as f:\n    data = f.read()`;
}
