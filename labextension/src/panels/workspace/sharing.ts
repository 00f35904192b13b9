import { ServerConnection } from '@jupyterlab/services';
import { requestAPI } from '../../api';
import { RequestModel } from '../../requestModel';

/**
 * Who a workspace is shared with: a user or a group, by name.
 */
export interface IShare {
  kind: 'user' | 'group';
  name: string;
  /** ISO 8601 time of the share, when the hub reports it. */
  created_at: string | null;
}

/**
 * The body of GET /labworks/shares.
 */
export interface IShareList {
  owner: string;
  /** The path the people shared with open, e.g. `/user/ana/lab`. */
  url: string;
  shares: IShare[];
}

/**
 * The body of POST /labworks/shares.
 */
export interface IShared extends IShare {
  url: string;
}

/**
 * The sharing state of this workspace: who it is shared with, the last share
 * made, whether a request is under way and the last error.
 *
 * Methods never reject: a failure is kept in `error` and they resolve `false`.
 */
export class SharingModel extends RequestModel {
  constructor(options: SharingModel.IOptions = {}) {
    super();
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
  }

  /**
   * The shares, users first; empty before the first answer.
   */
  get shares(): IShare[] {
    return this._shares;
  }

  /**
   * Whether the list was received at least once.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The address the people shared with open (absolute), or `null` before the first answer.
   */
  get url(): string | null {
    return this._url;
  }

  /**
   * The share made last in this session, to show where to send people.
   */
  get lastShared(): IShare | null {
    return this._lastShared;
  }

  /**
   * Fetch the list of shares again.
   */
  async refresh(): Promise<boolean> {
    return this.run(async () => {
      const list = await requestAPI<IShareList>(
        'shares',
        {},
        this._serverSettings
      );
      this._apply(list);
    });
  }

  /**
   * Share the workspace with a user or a group, then reload the list.
   */
  async share(kind: IShare['kind'], name: string): Promise<boolean> {
    const trimmed = name.trim();
    return this.run(async () => {
      const shared = await requestAPI<IShared>(
        'shares',
        { method: 'POST', body: JSON.stringify({ [kind]: trimmed }) },
        this._serverSettings
      );
      this._lastShared = {
        kind: shared.kind,
        name: shared.name,
        created_at: shared.created_at
      };
      this._url = Private.absolute(shared.url);
      const list = await requestAPI<IShareList>(
        'shares',
        {},
        this._serverSettings
      );
      this._apply(list);
    });
  }

  /**
   * Stop sharing with a user or a group, then reload the list.
   */
  async revoke(kind: IShare['kind'], name: string): Promise<boolean> {
    return this.run(async () => {
      await requestAPI<unknown>(
        `shares/${kind}/${encodeURIComponent(name)}`,
        { method: 'DELETE' },
        this._serverSettings
      );
      if (this._lastShared?.kind === kind && this._lastShared?.name === name) {
        this._lastShared = null;
      }
      const list = await requestAPI<IShareList>(
        'shares',
        {},
        this._serverSettings
      );
      this._apply(list);
    });
  }

  private _apply(list: IShareList): void {
    this._shares = list.shares;
    this._url = Private.absolute(list.url);
    this._loaded = true;
  }

  private _lastShared: IShare | null = null;
  private _loaded = false;
  private _serverSettings: ServerConnection.ISettings;
  private _shares: IShare[] = [];
  private _url: string | null = null;
}

/**
 * A namespace for SharingModel statics.
 */
export namespace SharingModel {
  /**
   * Options to create a SharingModel.
   */
  export interface IOptions {
    /**
     * The settings of the Jupyter server to ask; defaults to the page's.
     */
    serverSettings?: ServerConnection.ISettings;
  }
}

namespace Private {
  /**
   * The address of `path` on the site this page was loaded from.
   */
  export function absolute(path: string): string {
    return new URL(path, window.location.href).href;
  }
}
