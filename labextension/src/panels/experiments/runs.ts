import { RequestModel } from '../../requestModel';
import type { ExperimentsClient } from '../../common/experiments/client';
import { COST_METRIC } from '../../common/cost';
import {
  columnId,
  columnKeys,
  COST_COLUMN,
  isCostColumn,
  combinedFilter,
  IColumn,
  IKnownKeys,
  KeyIndex,
  orderBy,
  parseColumnId
} from './columns';
import type {
  IExperiment,
  IRun,
  IRunKeys,
  IRunsPage
} from '../../common/experiments/types';

/**
 * How many runs one page of the runs table asks the platform for (with the
 * visible columns' values only); the table asks for the next page when it is
 * scrolled near the end of what it has.
 */
export const RUNS_PAGE = 25;

/**
 * How many metrics and parameters are shown before the person chooses.
 */
export const DEFAULT_COLUMNS_PER_KIND = 6;

/**
 * The most runs compared at once.
 */
export const MAX_COMPARE = 20;

/**
 * The sort of the runs table.
 */
export interface ISort {
  column: IColumn;
  descending: boolean;
}

/**
 * Where the columns chosen for an experiment are kept between sessions.
 */
export interface IColumnStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The runs table of one experiment: pages of runs for the search box's
 * filter, the columns' filters and the sort (all done by the platform, in
 * MLflow's syntax), carrying the values of the shown columns only; which
 * columns are shown, and which runs are selected.
 *
 * Methods never reject: a failure (MLflow's message for a bad filter) is
 * kept in `error`.
 */
export class RunsModel extends RequestModel {
  constructor(options: RunsModel.IOptions) {
    super();
    this.client = options.client;
    this.experiment = options.experiment;
    this._pageSize = options.pageSize ?? RUNS_PAGE;
    this._store = options.columnStore ?? null;
    const stored = this._store?.getItem(this._storeKey());
    if (stored) {
      try {
        this._columns = (JSON.parse(stored) as string[])
          .map(parseColumnId)
          .filter((c): c is IColumn => c !== null);
        this._chosen = true;
      } catch {
        // A damaged entry: choose again.
      }
    }
  }

  readonly client: ExperimentsClient;

  readonly experiment: IExperiment;

  /**
   * The runs listed so far, in the table's order.
   */
  get runs(): IRun[] {
    return this._runs;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Whether every matching run is listed.
   */
  get complete(): boolean {
    return this._loaded && this._nextPage === null;
  }

  /**
   * The search box's filter, in MLflow's syntax.
   */
  get search(): string {
    return this._search;
  }

  /**
   * Each column's filter text, by column id.
   */
  get columnFilters(): Readonly<Record<string, string>> {
    return this._columnFilters;
  }

  get sort(): ISort | null {
    return this._sort;
  }

  /**
   * The parameters', metrics' and tags' keys the listed runs have.
   */
  get keys(): IKnownKeys {
    return this._keys.keys;
  }

  /**
   * The parameter, metric and tag columns shown, in order.
   */
  get columns(): IColumn[] {
    return this._columns;
  }

  /**
   * The ids of the selected runs, in the order they were selected.
   */
  get selected(): string[] {
    return [...this._selected.keys()];
  }

  /**
   * The selected runs (also those the filter no longer lists), as the table
   * has them: with the shown columns' values only.
   */
  get selectedRuns(): IRun[] {
    return [...this._selected.values()];
  }

  /**
   * The selected runs with all their parameters, metrics and tags, fetched
   * again; `null` when that failed (the reason in `error`).
   */
  async fetchSelected(): Promise<IRun[] | null> {
    const fetched: IRun[][] = [];
    const ok = await this.run(async () => {
      fetched.push(
        await Promise.all(this.selected.map(id => this.client.getRun(id)))
      );
    });
    return ok ? fetched[0] : null;
  }

  isSelected(runId: string): boolean {
    return this._selected.has(runId);
  }

  /**
   * List the first page again, for the current filters and sort.
   */
  refresh(): Promise<boolean> {
    const generation = ++this._generation;
    return this.run(async () => {
      try {
        let page = await this.client.searchRuns(this._query(null));
        if (generation !== this._generation) {
          return;
        }
        if (this._chooseDefaultColumns(page.keys)) {
          page = await this.client.searchRuns(this._query(null));
          if (generation !== this._generation) {
            return;
          }
        }
        this._runs = [];
        this._keys.clear();
        this._add(page);
      } catch (reason) {
        if (generation === this._generation) {
          this._runs = [];
          this._nextPage = null;
          this._loaded = true;
        }
        throw reason;
      }
    });
  }

  /**
   * Add the next page of runs, unless all are listed or a page is coming.
   */
  loadMore(): Promise<boolean> {
    const token = this._nextPage;
    if (token === null || this.busy) {
      return Promise.resolve(false);
    }
    const generation = this._generation;
    return this.run(async () => {
      const page = await this.client.searchRuns(this._query(token));
      if (generation === this._generation) {
        this._add(page);
      }
    });
  }

  /**
   * Filter with MLflow's search syntax (`metrics.acc > 0.9 and params.lr = '0.01'`).
   */
  setSearch(text: string): Promise<boolean> {
    this._search = text;
    return this.refresh();
  }

  /**
   * Filter a column (see `filterClause`); empty text removes the filter.
   */
  setColumnFilter(column: IColumn, text: string): Promise<boolean> {
    const filters = { ...this._columnFilters };
    if (text.trim()) {
      filters[columnId(column)] = text;
    } else {
      delete filters[columnId(column)];
    }
    this._columnFilters = filters;
    return this.refresh();
  }

  /**
   * Sort by a column: descending first, then ascending, then MLflow's order.
   */
  toggleSort(column: IColumn): Promise<boolean> {
    const current = this._sort;
    if (current === null || columnId(current.column) !== columnId(column)) {
      this._sort = { column, descending: true };
    } else if (current.descending) {
      this._sort = { column, descending: false };
    } else {
      this._sort = null;
    }
    return this.refresh();
  }

  /**
   * Show these columns, in this order (remembered for the experiment). A
   * column whose values the listed runs lack lists them again.
   */
  setColumns(columns: IColumn[]): void {
    const added = columns.some(
      c => c.kind !== 'attribute' && !this._fetched.has(columnId(c))
    );
    this._columns = columns;
    this._chosen = true;
    this._store?.setItem(
      this._storeKey(),
      JSON.stringify(columns.map(columnId))
    );
    this.emitChanged();
    if (added) {
      void this.refresh();
    }
  }

  /**
   * Select a run, or unselect it.
   */
  toggle(run: IRun): void {
    if (this._selected.has(run.info.run_id)) {
      this._selected.delete(run.info.run_id);
    } else {
      this._selected.set(run.info.run_id, run);
    }
    this.emitChanged();
  }

  /**
   * Select all listed runs, or none when all of them are selected.
   */
  toggleAll(): void {
    const all = this._runs.every(r => this._selected.has(r.info.run_id));
    if (all) {
      this._selected.clear();
    } else {
      for (const run of this._runs) {
        this._selected.set(run.info.run_id, run);
      }
    }
    this.emitChanged();
  }

  clearSelection(): void {
    this._selected.clear();
    this.emitChanged();
  }

  private _add(page: IRunsPage): void {
    const runs = page.runs ?? [];
    this._runs = [...this._runs, ...runs];
    this._nextPage = page.next_page_token || null;
    this._loaded = true;
    this._keys.add(page.keys ?? { metrics: [], params: [], tags: [] });
    for (const run of runs) {
      if (this._selected.has(run.info.run_id)) {
        this._selected.set(run.info.run_id, run); // the freshest copy
      }
    }
  }

  /**
   * Until columns are chosen, the Cost column (when a run has a cost) and
   * the first other metrics and parameters of the first page that has some;
   * once chosen, the Cost column is added the first time a run has a cost
   * (hiding it afterwards is remembered). Returns whether the columns changed.
   */
  private _chooseDefaultColumns(keys: IRunKeys | undefined): boolean {
    if (!keys) {
      return false;
    }
    const hasCost = keys.metrics.includes(COST_METRIC);
    if (!this._chosen && this._columns.length === 0) {
      this._columns = [
        ...(hasCost ? [COST_COLUMN] : []),
        ...[...keys.metrics]
          .filter(key => key !== COST_METRIC)
          .sort()
          .slice(0, DEFAULT_COLUMNS_PER_KIND)
          .map(key => ({ kind: 'metric' as const, key })),
        ...[...keys.params]
          .sort()
          .slice(0, DEFAULT_COLUMNS_PER_KIND)
          .map(key => ({ kind: 'param' as const, key }))
      ];
      if (hasCost) {
        this._costOffered();
      }
      return this._columns.length > 0;
    }
    if (
      !hasCost ||
      this._columns.some(isCostColumn) ||
      this._store?.getItem(this._storeKey('cost')) === 'offered' ||
      this._costShown
    ) {
      return false;
    }
    this._columns = [COST_COLUMN, ...this._columns];
    if (this._chosen) {
      this._store?.setItem(
        this._storeKey(),
        JSON.stringify(this._columns.map(columnId))
      );
    }
    this._costOffered();
    return true;
  }

  /**
   * Remember that the Cost column was shown once, so a person who hides it
   * keeps it hidden.
   */
  private _costOffered(): void {
    this._costShown = true;
    this._store?.setItem(this._storeKey('cost'), 'offered');
  }

  private _query(pageToken: string | null) {
    this._fetched = new Set(this._columns.map(columnId));
    return {
      experimentIds: [this.experiment.experiment_id],
      filter: combinedFilter(this._search, this._columnFilters),
      orderBy: this._sort
        ? [orderBy(this._sort.column, this._sort.descending)]
        : [],
      maxResults: this._pageSize,
      pageToken,
      columns: columnKeys(this._columns)
    };
  }

  private _storeKey(what = 'columns'): string {
    return `labworks:experiments:${what}:${this.experiment.experiment_id}`;
  }

  private _chosen = false;
  private _columnFilters: Record<string, string> = {};
  private _columns: IColumn[] = [];
  private _costShown = false;
  private _fetched = new Set<string>();
  private _generation = 0;
  private _keys = new KeyIndex();
  private _loaded = false;
  private _nextPage: string | null = null;
  private _pageSize: number;
  private _runs: IRun[] = [];
  private _search = '';
  private _selected = new Map<string, IRun>();
  private _sort: ISort | null = null;
  private _store: IColumnStore | null;
}

/**
 * A namespace for RunsModel statics.
 */
export namespace RunsModel {
  /**
   * Options to create a RunsModel.
   */
  export interface IOptions {
    client: ExperimentsClient;
    experiment: IExperiment;
    /** Runs per request (default `RUNS_PAGE`). */
    pageSize?: number;
    /** Where chosen columns are remembered (the lab passes localStorage). */
    columnStore?: IColumnStore | null;
  }
}
