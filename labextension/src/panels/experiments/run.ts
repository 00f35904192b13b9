import { RequestModel } from '../../requestModel';
import type { ExperimentsClient } from '../../common/experiments/client';
import type { IFileInfo, IRun } from '../../common/experiments/types';

/**
 * One run's page: the run, and the folders of its artifacts opened so far.
 *
 * Methods never reject: a failure is kept in `error`.
 */
export class RunModel extends RequestModel {
  constructor(options: RunModel.IOptions) {
    super();
    this.client = options.client;
    this.runId = options.runId;
    this._run = options.run ?? null;
  }

  readonly client: ExperimentsClient;

  readonly runId: string;

  /**
   * The run, or `null` until it is fetched.
   */
  get current(): IRun | null {
    return this._run;
  }

  /**
   * The files and folders directly in `path` (`''`: the top), or
   * `undefined` while not listed.
   */
  folder(path: string): IFileInfo[] | undefined {
    return this._folders.get(path);
  }

  /**
   * Whether the folder at `path` is shown open.
   */
  isOpen(path: string): boolean {
    return this._open.has(path);
  }

  /**
   * Fetch the run again and list the top of its artifacts.
   */
  refresh(): Promise<boolean> {
    return this.run(async () => {
      const [run, top] = await Promise.all([
        this.client.getRun(this.runId),
        this.client.listArtifacts(this.runId)
      ]);
      this._run = run;
      this._folders = new Map([['', sorted(top.files ?? [])]]);
      this._open = new Set();
    });
  }

  /**
   * Open a folder (listing it the first time), or close it.
   */
  async toggleFolder(path: string): Promise<boolean> {
    if (this._open.delete(path)) {
      this.emitChanged();
      return true;
    }
    this._open.add(path);
    if (this._folders.has(path)) {
      this.emitChanged();
      return true;
    }
    return this.run(async () => {
      const listing = await this.client.listArtifacts(this.runId, path);
      this._folders.set(path, sorted(listing.files ?? []));
    });
  }

  private _folders = new Map<string, IFileInfo[]>();
  private _open = new Set<string>();
  private _run: IRun | null;
}

/**
 * Folders first, then files, each by name.
 */
function sorted(files: IFileInfo[]): IFileInfo[] {
  return [...files].sort(
    (a, b) =>
      Number(!!b.is_dir) - Number(!!a.is_dir) || a.path.localeCompare(b.path)
  );
}

/**
 * A namespace for RunModel statics.
 */
export namespace RunModel {
  /**
   * Options to create a RunModel.
   */
  export interface IOptions {
    client: ExperimentsClient;
    runId: string;
    /** The run as the table had it, shown until it is fetched again. */
    run?: IRun;
  }
}
