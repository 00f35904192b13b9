import type { ServerConnection } from '@jupyterlab/services';

import { RequestModel } from '../../requestModel';
import {
  IAccessRequest,
  IAudit,
  IGrant,
  IPreview,
  ISource,
  ISourceEntry,
  SourcesClient
} from './sourcesClient';

/**
 * What a source's owner sees of it: its grants and who read what.
 */
export interface ISourceManagement {
  grants: IGrant[];
  audit: IAudit;
}

/**
 * The Sources section's state: the catalog of sources (every source, with
 * the person's access), the open source browsed along a trail of prefixes,
 * the previewed entry, the access requests, and for a source the person
 * manages its grants and usage.
 *
 * Methods never reject: a failure (a 403 naming the owner) is kept in `error`.
 */
export class SourcesModel extends RequestModel {
  constructor(options: SourcesModel.IOptions = {}) {
    super();
    this.client = options.client ?? new SourcesClient(options.serverSettings);
    this._isAdmin = options.isAdmin ?? (() => Promise.resolve(false));
  }

  readonly client: SourcesClient;

  get sources(): ISource[] {
    return this._sources;
  }

  /**
   * Whether the catalog arrived at least once.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Whether the person is an administrator (who manages every source).
   */
  get admin(): boolean {
    return this._admin;
  }

  /**
   * The requests on the sources the person manages, and their own.
   */
  get requests(): IAccessRequest[] {
    return this._requests;
  }

  /**
   * The open source, or `null`.
   */
  get selected(): ISource | null {
    return this._selected;
  }

  /**
   * The prefixes opened from the root of the open source down to the listed
   * one (empty: its root).
   */
  get trail(): string[] {
    return this._trail;
  }

  get entries(): ISourceEntry[] {
    return this._entries;
  }

  /**
   * Whether the listing stopped at the platform's limit.
   */
  get truncated(): boolean {
    return this._truncated;
  }

  /**
   * The previewed entry and its preview, or `null`.
   */
  get preview(): { entry: ISourceEntry; preview: IPreview } | null {
    return this._preview;
  }

  /**
   * The open source's grants and usage, when the person manages it and
   * asked for them; else `null`.
   */
  get management(): ISourceManagement | null {
    return this._management;
  }

  /**
   * Whether the person may read `source`.
   */
  canRead(source: ISource): boolean {
    return source.access !== 'none' || this._admin;
  }

  /**
   * Whether the person manages `source`: its owner, or an administrator.
   */
  canManage(source: ISource): boolean {
    return source.access === 'owner' || this._admin;
  }

  /**
   * The person's pending request on `source`, if any.
   */
  pendingRequest(source: ISource): IAccessRequest | null {
    return (
      this._requests.find(
        r =>
          r.source === source.name &&
          r.status === 'pending' &&
          !this.canManage(source)
      ) ?? null
    );
  }

  /**
   * The pending requests on `source` that the person may answer.
   */
  requestsToAnswer(source: ISource): IAccessRequest[] {
    if (!this.canManage(source)) {
      return [];
    }
    return this._requests.filter(
      r => r.source === source.name && r.status === 'pending'
    );
  }

  /**
   * Read the catalog and the requests again; the open source stays open
   * (with its listing) while it is still in the catalog.
   */
  refresh(): Promise<boolean> {
    const generation = ++this._generation;
    return this.run(async () => {
      const [sources, requests, admin] = await Promise.all([
        this.client.list(),
        this.client.requests(),
        this._isAdmin().catch(() => false)
      ]);
      if (generation !== this._generation) {
        return;
      }
      this._sources = sources;
      this._requests = requests;
      this._admin = admin;
      this._loaded = true;
      const open = this._selected?.name;
      this._selected = sources.find(s => s.name === open) ?? null;
      if (this._selected === null) {
        this._close();
      }
    });
  }

  /**
   * Open a source at its root (listing it when the person may read it); the
   * open one again (or `null`) closes it.
   */
  select(name: string | null): Promise<boolean> {
    const generation = ++this._generation;
    const source = this._sources.find(s => s.name === name) ?? null;
    this._close();
    if (source === null || source.name === this._selected?.name) {
      this._selected = null;
      this.emitChanged();
      return Promise.resolve(true);
    }
    this._selected = source;
    this.emitChanged();
    if (!this.canRead(source)) {
      return Promise.resolve(true);
    }
    return this._list(generation, []);
  }

  /**
   * List a folder or schema of the open source, one level below the current.
   */
  open(entry: ISourceEntry): Promise<boolean> {
    return this._list(++this._generation, [...this._trail, entry.path]);
  }

  /**
   * Go back up the trail: `index` -1 is the root, 0 the first prefix opened.
   */
  goTo(index: number): Promise<boolean> {
    return this._list(++this._generation, this._trail.slice(0, index + 1));
  }

  /**
   * Show the first rows of a file or table of the open source.
   */
  showPreview(entry: ISourceEntry): Promise<boolean> {
    const source = this._selected;
    if (source === null) {
      return Promise.resolve(false);
    }
    const generation = ++this._generation;
    return this.run(async () => {
      const preview = await this.client.preview(source.name, entry.path);
      if (generation === this._generation) {
        this._preview = { entry, preview };
      }
    });
  }

  closePreview(): void {
    this._preview = null;
    this.emitChanged();
  }

  /**
   * Ask the owner of `source` for access; the request joins `requests`.
   */
  requestAccess(
    source: ISource,
    reason: string,
    access: 'read' | 'write'
  ): Promise<boolean> {
    return this.run(async () => {
      const request = await this.client.requestAccess(
        source.name,
        reason,
        access
      );
      this._requests = [request, ...this._requests];
    });
  }

  /**
   * Read the open source's grants and usage (its managers').
   */
  loadManagement(): Promise<boolean> {
    const source = this._selected;
    if (source === null) {
      return Promise.resolve(false);
    }
    return this.run(async () => {
      const [grants, audit] = await Promise.all([
        this.client.grants(source.name),
        this.client.audit(source.name)
      ]);
      if (this._selected?.name === source.name) {
        this._management = { grants, audit };
      }
    });
  }

  /**
   * Grant a user or group (`user:<name>`, `group:<name>`) access to the open
   * source; its pending request is answered, so the requests are read again.
   */
  grant(principal: string, access: 'read' | 'write'): Promise<boolean> {
    const source = this._selected;
    if (source === null) {
      return Promise.resolve(false);
    }
    return this.run(async () => {
      await this.client.grant(source.name, principal, access);
      await this._reloadGrants(source);
    });
  }

  /**
   * Answer a pending request with the access it asked for.
   */
  answer(request: IAccessRequest): Promise<boolean> {
    return this.grant(`user:${request.user}`, request.access);
  }

  revoke(principal: string): Promise<boolean> {
    const source = this._selected;
    if (source === null) {
      return Promise.resolve(false);
    }
    return this.run(async () => {
      await this.client.revoke(source.name, principal);
      await this._reloadGrants(source);
    });
  }

  private async _reloadGrants(source: ISource): Promise<void> {
    const [grants, requests] = await Promise.all([
      this.client.grants(source.name),
      this.client.requests()
    ]);
    this._requests = requests;
    if (this._management !== null && this._selected?.name === source.name) {
      this._management = { ...this._management, grants };
    }
  }

  private _list(generation: number, trail: string[]): Promise<boolean> {
    const source = this._selected;
    if (source === null) {
      return Promise.resolve(false);
    }
    return this.run(async () => {
      const prefix = trail.length ? trail[trail.length - 1] : '';
      const listing = await this.client.entries(source.name, prefix);
      if (generation === this._generation) {
        this._trail = trail;
        this._entries = listing.entries;
        this._truncated = listing.truncated;
        this._preview = null;
      }
    });
  }

  private _close(): void {
    this._trail = [];
    this._entries = [];
    this._truncated = false;
    this._preview = null;
    this._management = null;
  }

  private _admin = false;
  private _entries: ISourceEntry[] = [];
  private _generation = 0;
  private _isAdmin: () => Promise<boolean>;
  private _loaded = false;
  private _management: ISourceManagement | null = null;
  private _preview: { entry: ISourceEntry; preview: IPreview } | null = null;
  private _requests: IAccessRequest[] = [];
  private _selected: ISource | null = null;
  private _sources: ISource[] = [];
  private _trail: string[] = [];
  private _truncated = false;
}

/**
 * A namespace for SourcesModel statics.
 */
export namespace SourcesModel {
  /**
   * Options to create a SourcesModel.
   */
  export interface IOptions {
    client?: SourcesClient;
    serverSettings?: ServerConnection.ISettings;
    /**
     * Whether the person is an administrator (the workspace facts say).
     */
    isAdmin?: () => Promise<boolean>;
  }
}
