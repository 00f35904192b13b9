import { ServerConnection } from '@jupyterlab/services';
import { requestAPI } from '../../api';
import type { IDiffFiles } from '../../common/nbdime';
import { RequestModel } from '../../requestModel';

/**
 * One version of a gallery notebook (no content).
 */
export interface IGalleryVersion {
  number: number;
  sha256: string;
  size: number;
  message: string;
  published_at: string;
}

/**
 * A notebook published to a group's gallery.
 */
export interface IGalleryEntry {
  id: number;
  owner: string;
  group: string;
  name: string;
  created_at: string;
  updated_at: string;
  latest_version: number;
}

/**
 * An entry with its versions (GET /labworks/gallery/<id>).
 */
export interface IGalleryEntryDetail extends IGalleryEntry {
  versions: IGalleryVersion[];
}

/**
 * A version with its notebook (GET /labworks/gallery/<id>/versions/<n>).
 */
export interface IGalleryVersionContent extends IGalleryVersion {
  entry_id: number;
  owner: string;
  group: string;
  name: string;
  content: Record<string, unknown>;
}

/**
 * The body of POST /labworks/gallery.
 */
export interface IPublished {
  entry: IGalleryEntry;
  version: IGalleryVersion;
}

/**
 * The Gallery panel's state: the entries of my groups, the open entry with
 * its versions, whether a request is under way and the last error.
 *
 * Methods never reject; a failure is kept in `error`.
 */
export class GalleryModel extends RequestModel {
  constructor(options: GalleryModel.IOptions = {}) {
    super();
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
  }

  /**
   * The server the model asks.
   */
  readonly serverSettings: ServerConnection.ISettings;

  get entries(): IGalleryEntry[] {
    return this._entries;
  }

  /**
   * Whether the entries were received at least once.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The entry shown with its versions, or `null`.
   */
  get selected(): IGalleryEntryDetail | null {
    return this._selected;
  }

  /**
   * Fetch the entries (and the open entry) again.
   */
  async refresh(): Promise<boolean> {
    return this.run(async () => {
      await this._reload();
    });
  }

  /**
   * Show an entry with its versions; the same id again closes it.
   */
  async select(id: number | null): Promise<boolean> {
    if (id === null || this._selected?.id === id) {
      this._selected = null;
      this.emitChanged();
      return true;
    }
    return this.run(async () => {
      this._selected = await this._get<IGalleryEntryDetail>(`gallery/${id}`);
    });
  }

  /**
   * Publish the notebook at `path` (in this workspace) to `group`.
   */
  async publish(
    path: string,
    group: string,
    message: string
  ): Promise<IPublished | null> {
    let published: IPublished | null = null;
    await this.run(async () => {
      published = await requestAPI<IPublished>(
        'gallery',
        { method: 'POST', body: JSON.stringify({ path, group, message }) },
        this.serverSettings
      );
      await this._reload(published.entry.id);
    });
    return published;
  }

  /**
   * One version with its notebook; rejects on failure (the read-only drive uses it).
   */
  async version(id: number, number: number): Promise<IGalleryVersionContent> {
    return this._get<IGalleryVersionContent>(
      `gallery/${id}/versions/${number}`
    );
  }

  /**
   * Make an editable copy of a version in the workspace; resolves its path.
   */
  async copy(id: number, number: number): Promise<string | null> {
    let path: string | null = null;
    await this.run(async () => {
      const reply = await requestAPI<{ path: string }>(
        `gallery/${id}/versions/${number}/copy`,
        { method: 'POST' },
        this.serverSettings
      );
      path = reply.path;
    });
    return path;
  }

  /**
   * Write two versions where nbdime's diff page reads them; resolves their paths.
   */
  async diffFiles(
    id: number,
    base: number,
    remote: number
  ): Promise<IDiffFiles | null> {
    let files: IDiffFiles | null = null;
    await this.run(async () => {
      files = await requestAPI<IDiffFiles>(
        `gallery/${id}/diff-files?base=${base}&remote=${remote}`,
        { method: 'POST' },
        this.serverSettings
      );
    });
    return files;
  }

  /**
   * Unpublish an entry and all its versions (its publisher only).
   */
  async remove(id: number): Promise<boolean> {
    return this.run(async () => {
      await requestAPI<unknown>(
        `gallery/${id}`,
        { method: 'DELETE' },
        this.serverSettings
      );
      if (this._selected?.id === id) {
        this._selected = null;
      }
      await this._reload();
    });
  }

  private async _reload(select?: number): Promise<void> {
    const listing = await this._get<{ entries: IGalleryEntry[] }>('gallery');
    this._entries = listing.entries;
    this._loaded = true;
    const open = select ?? this._selected?.id;
    this._selected =
      open !== undefined && listing.entries.some(e => e.id === open)
        ? await this._get<IGalleryEntryDetail>(`gallery/${open}`)
        : null;
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this.serverSettings);
  }

  private _entries: IGalleryEntry[] = [];
  private _loaded = false;
  private _selected: IGalleryEntryDetail | null = null;
}

/**
 * A namespace for GalleryModel statics.
 */
export namespace GalleryModel {
  /**
   * Options to create a GalleryModel.
   */
  export interface IOptions {
    /**
     * The settings of the Jupyter server to ask; defaults to the page's.
     */
    serverSettings?: ServerConnection.ISettings;
  }
}
