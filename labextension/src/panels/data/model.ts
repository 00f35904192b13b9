import type { ServerConnection } from '@jupyterlab/services';

import { APIError } from '../../api';
import { RequestModel } from '../../requestModel';
import { DatasetsClient, IDataset, IVersionDetail } from './client';

/**
 * The Data panel's state: the datasets the person may read (theirs, their
 * groups' and public ones, as the platform decides), narrowed by a filter;
 * the open dataset with its versions, and the chosen version with its files.
 *
 * Methods never reject: a failure is kept in `error`.
 */
export class DataModel extends RequestModel {
  constructor(options: DataModel.IOptions = {}) {
    super();
    this.client = options.client ?? new DatasetsClient(options.serverSettings);
  }

  readonly client: DatasetsClient;

  /**
   * Every dataset the person may read, last updated first.
   */
  get datasets(): IDataset[] {
    return this._datasets;
  }

  /**
   * The datasets whose ref or description holds the filter (any case).
   */
  get shown(): IDataset[] {
    const text = this._filter.trim().toLowerCase();
    if (!text) {
      return this._datasets;
    }
    return this._datasets.filter(
      d =>
        d.ref.toLowerCase().includes(text) ||
        d.description.toLowerCase().includes(text)
    );
  }

  get filter(): string {
    return this._filter;
  }

  /**
   * Whether the list arrived at least once.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The open dataset with its versions, or `null`.
   */
  get selected(): IDataset | null {
    return this._selected;
  }

  /**
   * The chosen version of the open dataset with its files, or `null`.
   */
  get version(): IVersionDetail | null {
    return this._version;
  }

  setFilter(text: string): void {
    this._filter = text;
    this.emitChanged();
  }

  /**
   * List the datasets again, and the open one with its chosen version (it
   * closes when the person may no longer read it).
   */
  refresh(): Promise<boolean> {
    const generation = ++this._generation;
    return this.run(async () => {
      const datasets = await this.client.list();
      const ref = this._selected?.ref ?? null;
      const open =
        ref === null
          ? null
          : await this._open(ref, this._version?.number).catch(reason => {
              if (reason instanceof APIError && reason.status === 404) {
                return null;
              }
              throw reason;
            });
      if (generation === this._generation) {
        this._datasets = datasets;
        this._loaded = true;
        [this._selected, this._version] = open ?? [null, null];
      }
    });
  }

  /**
   * Open a dataset with its versions and the files of its latest; the open
   * one again (or `null`) closes it.
   */
  select(ref: string | null): Promise<boolean> {
    const generation = ++this._generation;
    if (ref === null || ref === this._selected?.ref) {
      this._selected = this._version = null;
      this.emitChanged();
      return Promise.resolve(true);
    }
    return this.run(async () => {
      const [dataset, version] = await this._open(ref);
      if (generation === this._generation) {
        this._selected = dataset;
        this._version = version;
      }
    });
  }

  /**
   * Show the files of another version of the open dataset.
   */
  chooseVersion(number: number): Promise<boolean> {
    const dataset = this._selected;
    if (dataset === null) {
      return Promise.resolve(false);
    }
    const generation = ++this._generation;
    return this.run(async () => {
      const version = await this.client.version(dataset.ref, number);
      if (generation === this._generation) {
        this._version = version;
      }
    });
  }

  /**
   * A dataset and one of its versions (`number` when it still has it, else
   * its latest; `null` when it has none).
   */
  private async _open(
    ref: string,
    number?: number
  ): Promise<[IDataset, IVersionDetail | null]> {
    const dataset = await this.client.get(ref);
    const numbers = dataset.versions.map(v => v.number);
    const chosen =
      number !== undefined && numbers.includes(number)
        ? number
        : dataset.latest_version;
    const version =
      chosen === null ? null : await this.client.version(ref, chosen);
    return [dataset, version];
  }

  private _datasets: IDataset[] = [];
  private _filter = '';
  private _generation = 0;
  private _loaded = false;
  private _selected: IDataset | null = null;
  private _version: IVersionDetail | null = null;
}

/**
 * A namespace for DataModel statics.
 */
export namespace DataModel {
  /**
   * Options to create a DataModel.
   */
  export interface IOptions {
    client?: DatasetsClient;
    serverSettings?: ServerConnection.ISettings;
  }
}
