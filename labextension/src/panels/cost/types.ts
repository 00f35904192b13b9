import type { ICostReport, ICostRow } from '../../common/cost';

/**
 * Wire types of the cost routes (`/labworks/cost/...`) the Cost panel and the
 * meter read, as the platform's cost API answers them
 * (docs/reference/rest-api.md, "Costs"); the prices and the report's common
 * part are in `common/cost.ts`.
 */

/**
 * What each row of a report is about.
 */
export type CostBy =
  | 'user'
  | 'group'
  | 'project'
  | 'workspace'
  | 'job'
  | 'sweep'
  | 'run'
  | 'deployment'
  | 'day';

/**
 * Whose budget it is.
 */
export type BudgetScope = 'user' | 'group';

/**
 * One row of a report: a user, group, id, run id or day, and its cost.
 */
export interface IReportRow extends ICostRow {
  /** Reserved (billed) core-hours. */
  cpu_hours: number;
  /** Reserved (billed) GiB-hours. */
  memory_gb_hours: number;
  /** Reserved (billed) GPU-hours. */
  gpu_hours: number;
  /** Measured CPU time, in hours. */
  cpu_used_hours: number;
}

/**
 * The body of GET /labworks/cost/report: a month's cost, one row per key.
 */
export interface IReport extends ICostReport {
  by: CostBy;
  rows: IReportRow[];
}

/**
 * Something of the person's that runs now, at its last sample.
 */
export interface IRunningSubject {
  kind: 'workspace' | 'job' | 'deployment';
  /** `user` or `user/server` for a workspace; a job's or deployment's id. */
  id: string;
  name: string;
  profile: string;
  burn_per_hour: number;
  /** Of one core. */
  cpu_percent: number | null;
  memory_bytes: number | null;
  /** Percent; `null` without a GPU. */
  gpu_utilization: number | null;
}

/**
 * A monthly budget with this month's use.
 */
export interface IBudget {
  scope: BudgetScope;
  name: string;
  monthly_usd: number;
  /** Percentages of the budget that alert. */
  thresholds: number[];
  spent_usd: number;
  percent: number;
  updated_by: string;
  /** Until then the budget refuses no new work (an administrator's override). */
  override_until?: string | null;
}

/**
 * The body of GET /labworks/cost/budgets.
 */
export interface IBudgetList {
  month: string;
  budgets: IBudget[];
}

/**
 * The body of GET /labworks/cost/summary: the person's burn rate now, spend
 * today and this month, running work and budgets, and this workspace's id.
 */
export interface ISummary {
  user: string;
  currency: string;
  burn_per_hour: number;
  today_usd: number;
  month_usd: number;
  running: IRunningSubject[];
  budgets: IBudget[];
  /** This workspace's id among `running`; `null` outside JupyterHub. */
  workspace: string | null;
}
