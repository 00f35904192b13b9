import type { ServerConnection } from '@jupyterlab/services';

import { RequestModel } from '../../requestModel';
import { ExperimentsClient } from '../../common/experiments/client';
import { quoteValue } from './columns';
import type { IExperiment } from '../../common/experiments/types';

/**
 * How many experiments one request lists.
 */
export const EXPERIMENTS_PAGE = 100;

/**
 * The Experiments panel's state: the experiments the user may see (theirs,
 * their groups' and public ones, as the tracking server decides), last
 * updated first, narrowed by a part of their name.
 *
 * Methods never reject: a failure is kept in `error`.
 */
export class ExperimentsModel extends RequestModel {
  constructor(options: ExperimentsModel.IOptions = {}) {
    super();
    this.client =
      options.client ?? new ExperimentsClient(options.serverSettings);
  }

  readonly client: ExperimentsClient;

  get experiments(): IExperiment[] {
    return this._experiments;
  }

  /**
   * Whether the first page arrived.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Whether more experiments than listed match.
   */
  get hasMore(): boolean {
    return this._nextPage !== null;
  }

  /**
   * The part of a name the list is narrowed to.
   */
  get search(): string {
    return this._search;
  }

  /**
   * The experiment with this id, if listed.
   */
  find(id: string): IExperiment | undefined {
    return this._experiments.find(e => e.experiment_id === id);
  }

  /**
   * List the first page again.
   */
  refresh(): Promise<boolean> {
    const generation = ++this._generation;
    return this.run(async () => {
      const page = await this.client.searchExperiments(
        this._filter(),
        null,
        EXPERIMENTS_PAGE
      );
      if (generation === this._generation) {
        this._experiments = page.experiments ?? [];
        this._nextPage = page.next_page_token || null;
        this._loaded = true;
      }
    });
  }

  /**
   * Add the next page to the list.
   */
  loadMore(): Promise<boolean> {
    const token = this._nextPage;
    if (token === null || this.busy) {
      return Promise.resolve(false);
    }
    const generation = this._generation;
    return this.run(async () => {
      const page = await this.client.searchExperiments(
        this._filter(),
        token,
        EXPERIMENTS_PAGE
      );
      if (generation === this._generation) {
        this._experiments = [...this._experiments, ...(page.experiments ?? [])];
        this._nextPage = page.next_page_token || null;
      }
    });
  }

  /**
   * Narrow the list to experiments whose name holds `text` (any case).
   */
  setSearch(text: string): Promise<boolean> {
    this._search = text;
    return this.refresh();
  }

  private _filter(): string {
    const text = this._search.trim();
    return text ? `name ILIKE ${quoteValue(`%${text}%`)}` : '';
  }

  private _experiments: IExperiment[] = [];
  private _generation = 0;
  private _loaded = false;
  private _nextPage: string | null = null;
  private _search = '';
}

/**
 * A namespace for ExperimentsModel statics.
 */
export namespace ExperimentsModel {
  /**
   * Options to create an ExperimentsModel.
   */
  export interface IOptions {
    client?: ExperimentsClient;
    serverSettings?: ServerConnection.ISettings;
  }
}
