import type { Contents, ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * A read-only Contents drive: JupyterLab opens its notebooks in its own
 * notebook view, marked read-only (`writable: false`), and every change
 * (save, rename, delete, checkpoints) is refused with one message.
 *
 * The Gallery's versions and the Jobs' output notebooks are served by one
 * each; what a path names and how it is fetched is the `load` option.
 */
export class ReadOnlyDrive implements Contents.IDrive {
  constructor(options: ReadOnlyDrive.IOptions) {
    this.name = options.name;
    this.serverSettings = options.serverSettings;
    this._load = options.load;
    this._readOnly = options.readOnlyMessage;
  }

  readonly name: string;

  readonly serverSettings: ServerConnection.ISettings;

  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  async get(
    localPath: string,
    options?: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    return this._load(localPath, options?.content !== false);
  }

  async getDownloadUrl(): Promise<string> {
    throw new Error(this._readOnly);
  }

  async newUntitled(): Promise<Contents.IModel> {
    throw new Error(this._readOnly);
  }

  async delete(): Promise<void> {
    throw new Error(this._readOnly);
  }

  async rename(): Promise<Contents.IModel> {
    throw new Error(this._readOnly);
  }

  async save(): Promise<Contents.IModel> {
    throw new Error(this._readOnly);
  }

  async copy(): Promise<Contents.IModel> {
    throw new Error(this._readOnly);
  }

  async createCheckpoint(): Promise<Contents.ICheckpointModel> {
    throw new Error(this._readOnly);
  }

  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  async restoreCheckpoint(): Promise<void> {
    throw new Error(this._readOnly);
  }

  async deleteCheckpoint(): Promise<void> {
    throw new Error(this._readOnly);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _isDisposed = false;
  private _load: ReadOnlyDrive.Loader;
  private _readOnly: string;
}

/**
 * A namespace for ReadOnlyDrive statics.
 */
export namespace ReadOnlyDrive {
  /**
   * Fetch the file a drive path names (`withContent` false: its model only).
   */
  export type Loader = (
    localPath: string,
    withContent: boolean
  ) => Promise<Contents.IModel>;

  /**
   * Options to create a ReadOnlyDrive.
   */
  export interface IOptions {
    /** The drive name, the prefix of its paths (`<name>:...`). */
    name: string;
    serverSettings: ServerConnection.ISettings;
    /** The message every refused change rejects with. */
    readOnlyMessage: string;
    load: Loader;
  }

  /**
   * What a read-only notebook model is made of.
   */
  export interface INotebookFields {
    /** The file name shown on the tab. */
    name: string;
    /** The path in the drive (without the drive prefix). */
    localPath: string;
    content: Record<string, unknown>;
    withContent: boolean;
    /** ISO time. */
    modified: string;
    size?: number;
    sha256?: string;
  }

  /**
   * The contents model of a notebook nobody can write.
   */
  export function notebookModel(fields: INotebookFields): Contents.IModel {
    const model: Contents.IModel = {
      name: fields.name,
      path: fields.localPath.replace(/^\//, ''),
      type: 'notebook',
      format: fields.withContent ? 'json' : null,
      mimetype: 'application/x-ipynb+json',
      content: fields.withContent ? fields.content : null,
      writable: false,
      created: fields.modified,
      last_modified: fields.modified,
      size: fields.size
    };
    if (fields.sha256) {
      return { ...model, hash: fields.sha256, hash_algorithm: 'sha256' };
    }
    return model;
  }
}
