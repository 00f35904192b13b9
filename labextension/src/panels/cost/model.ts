import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import { RequestModel } from '../../requestModel';
import { CostPanelClient, ICsvFile } from './client';
import type { BudgetScope, CostBy, IBudget, IReport, ISummary } from './types';

/**
 * Milliseconds between two asks while the panel is shown.
 */
export const POLL_MS = 15_000;

/**
 * What the switchable table can be by, in the order the picker lists them.
 */
export const TABLE_BY: CostBy[] = [
  'workspace',
  'job',
  'sweep',
  'run',
  'deployment',
  'project'
];

/**
 * A budget as the form asks for it, read from what was typed.
 */
export interface IBudgetRequest {
  scope: BudgetScope;
  name: string;
  monthlyUsd: number;
  thresholds: number[];
}

/**
 * Read the budget form: a name, a monthly amount of at least 0 and
 * thresholds as comma-separated whole percentages from 1 to 1000 (empty:
 * 50, 80, 100). Returns the request, or the reason it is refused.
 */
export function parseBudget(
  fields: {
    scope: BudgetScope;
    name: string;
    monthly: string;
    thresholds: string;
  },
  trans: TranslationBundle
): IBudgetRequest | string {
  const name = fields.name.trim();
  if (!name) {
    return trans.__('Name the %1 the budget is for.', fields.scope);
  }
  const monthly = fields.monthly.trim() === '' ? NaN : Number(fields.monthly);
  if (!Number.isFinite(monthly) || monthly < 0) {
    return trans.__('The monthly budget is an amount of at least 0.');
  }
  const text = fields.thresholds.trim() || '50, 80, 100';
  const thresholds = text.split(',').map(t => Number(t.trim()));
  if (thresholds.some(t => !Number.isInteger(t) || t < 1 || t > 1000)) {
    return trans.__(
      'Thresholds are whole percentages from 1 to 1000, separated by commas (e.g. 50, 80, 100).'
    );
  }
  return { scope: fields.scope, name, monthlyUsd: monthly, thresholds };
}

/**
 * The days of a month (`YYYY-MM`) with each day's cost from a report by
 * day: `[day numbers, costs]`, a day without usage at 0.
 */
export function dailySeries(report: IReport): [number[], number[]] {
  const [year, month] = report.month.split('-').map(Number);
  const count = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const days = Array.from({ length: count }, (_, i) => i + 1);
  const costs = days.map(() => 0);
  for (const row of report.rows) {
    const day = Number(row.key.slice(8, 10));
    if (row.key.startsWith(report.month) && day >= 1 && day <= count) {
      costs[day - 1] += row.cost_usd;
    }
  }
  return [days, costs];
}

/**
 * The Cost panel's state: the person's summary, a month's cost by day, by
 * what the table shows and by group (administrators: by user too), and the
 * budgets. It polls while the panel is shown (`watch(true)`).
 *
 * Methods never reject: a failure (the platform's message) is kept in
 * `error`, a refused budget change in `budgetError`.
 */
export class CostModel extends RequestModel {
  constructor(options: CostModel.IOptions = {}) {
    super();
    this.client = options.client ?? new CostPanelClient(options.serverSettings);
    this._pollMs = options.pollMs ?? POLL_MS;
  }

  readonly client: CostPanelClient;

  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The month shown (`YYYY-MM`); `null` for the current one.
   */
  get month(): string | null {
    return this._month;
  }

  /**
   * What the table's rows are.
   */
  get by(): CostBy {
    return this._by;
  }

  /**
   * Whether the person administers the platform (everyone's costs, budgets).
   */
  get admin(): boolean {
    return this._admin;
  }

  get summary(): ISummary | null {
    return this._summary;
  }

  get daily(): IReport | null {
    return this._daily;
  }

  get table(): IReport | null {
    return this._table;
  }

  get groups(): IReport | null {
    return this._groups;
  }

  /**
   * Everyone's cost (administrators); `null` for anyone else.
   */
  get users(): IReport | null {
    return this._users;
  }

  get budgets(): ReadonlyArray<IBudget> {
    return this._budgets;
  }

  /**
   * Why the last budget change was refused; `null` after a success.
   */
  get budgetError(): string | null {
    return this._budgetError;
  }

  /**
   * Say whether the person is an administrator; asks again when it changes.
   */
  setAdmin(admin: boolean): void {
    if (admin !== this._admin) {
      this._admin = admin;
      if (this._loaded) {
        void this.refresh();
      }
    }
  }

  /**
   * Ask for everything shown again.
   */
  async refresh(): Promise<boolean> {
    this._stopTimer();
    const month = this._month;
    const by = this._by;
    const ok = await this.run(async () => {
      const client = this.client;
      const [summary, daily, table, groups, users, budgets] = await Promise.all(
        [
          client.summary(),
          client.monthReport('day', month),
          client.monthReport(by, month),
          client.monthReport('group', month),
          this._admin
            ? client.monthReport('user', month)
            : Promise.resolve(null),
          client.budgets()
        ]
      );
      if (month !== this._month || by !== this._by) {
        return; // the person chose another view meanwhile: its own ask wins
      }
      this._summary = summary;
      this._daily = daily;
      this._table = table;
      this._groups = groups;
      this._users = users;
      this._budgets = budgets;
      this._loaded = true;
    });
    this._schedule();
    return ok;
  }

  /**
   * Show another month (`YYYY-MM`; empty or `null`: the current one).
   */
  setMonth(month: string | null): Promise<boolean> {
    this._month = month || null;
    return this.refresh();
  }

  /**
   * Show the table by something else.
   */
  setBy(by: CostBy): Promise<boolean> {
    this._by = by;
    return this.refresh();
  }

  /**
   * The shown table's report as a CSV file; `null` when refused (the reason
   * in `error`).
   */
  async csv(): Promise<ICsvFile | null> {
    let file: ICsvFile | null = null;
    await this.run(async () => {
      file = await this.client.reportCsv(this._by, this._month);
    });
    return file;
  }

  /**
   * Set a budget (administrators); resolves whether it was set, the
   * platform's refusal in `budgetError` when not.
   */
  setBudget(request: IBudgetRequest | string): Promise<boolean> {
    if (typeof request === 'string') {
      this._budgetError = request;
      this.emitChanged();
      return Promise.resolve(false);
    }
    return this._budgetChange(() =>
      this.client.setBudget(
        request.scope,
        request.name,
        request.monthlyUsd,
        request.thresholds
      )
    );
  }

  /**
   * Remove a budget (administrators).
   */
  removeBudget(budget: IBudget): Promise<boolean> {
    return this._budgetChange(() =>
      this.client.deleteBudget(budget.scope, budget.name)
    );
  }

  /**
   * Poll while `shown`; stop otherwise.
   */
  watch(shown: boolean): void {
    this._shown = shown;
    if (shown) {
      this._schedule();
    } else {
      this._stopTimer();
    }
  }

  dispose(): void {
    this._stopTimer();
    super.dispose();
  }

  private async _budgetChange(work: () => Promise<unknown>): Promise<boolean> {
    let refusal: string | null = null;
    const ok = await this.run(async () => {
      try {
        await work();
      } catch (reason) {
        refusal = this.describe(reason);
        return;
      }
      this._budgets = await this.client.budgets();
    });
    this._budgetError = refusal;
    this.emitChanged();
    return ok && refusal === null;
  }

  /**
   * Ask again later while shown; never twice at once.
   */
  private _schedule(): void {
    if (this.isDisposed || !this._shown || this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, this._pollMs);
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _admin = false;
  private _budgetError: string | null = null;
  private _budgets: IBudget[] = [];
  private _by: CostBy = 'workspace';
  private _daily: IReport | null = null;
  private _groups: IReport | null = null;
  private _loaded = false;
  private _month: string | null = null;
  private _pollMs: number;
  private _shown = false;
  private _summary: ISummary | null = null;
  private _table: IReport | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _users: IReport | null = null;
}

/**
 * A namespace for CostModel statics.
 */
export namespace CostModel {
  export interface IOptions {
    client?: CostPanelClient;
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between asks while shown. */
    pollMs?: number;
  }
}
