import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../api';

/**
 * Cost shown beside profiles, runs and sweeps: a small client of this lab's
 * cost routes (`/labworks/cost/...`, relayed to the platform) and the
 * formatters every panel uses, so a price reads the same everywhere.
 */

/**
 * The MLflow metric the platform logs on a job's run when it ends: what the
 * run cost, in US dollars.
 */
export const COST_METRIC = 'labworks.cost_usd';

/**
 * What an hour on a profile costs (GET /labworks/cost/prices).
 */
export interface IProfilePrice {
  name: string;
  display_name: string;
  per_hour: number;
  /** False: the profile sets its own price_per_hour. */
  computed: boolean;
}

/**
 * The price table and each profile's price per hour.
 */
export interface IPriceList {
  currency: string;
  prices: Record<string, unknown>;
  profiles: IProfilePrice[];
}

/**
 * One row of a cost report: what one key (user, sweep, run...) cost.
 */
export interface ICostRow {
  key: string;
  name: string;
  cost_usd: number;
}

/**
 * A month's cost by one kind of key (GET /labworks/cost/report).
 */
export interface ICostReport {
  month: string;
  by: string;
  currency: string;
  rows: ICostRow[];
  total_usd: number;
}

/**
 * A typed client of this lab's cost routes; every method rejects with an
 * `APIError` carrying the platform's message when refused.
 */
export class CostClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  prices(): Promise<IPriceList> {
    return requestAPI<IPriceList>('cost/prices', {}, this.serverSettings);
  }

  /**
   * A month's (`YYYY-MM`, default this one) report by `by`.
   */
  report(by: string, month?: string): Promise<ICostReport> {
    const query = new URLSearchParams({ by });
    if (month) {
      query.set('month', month);
    }
    return requestAPI<ICostReport>(
      `cost/report?${query}`,
      {},
      this.serverSettings
    );
  }
}

/**
 * The prices, or `null` when they cannot be read (an older platform, or
 * metering off): dialogs then show no price rather than an error.
 */
export async function fetchPrices(
  serverSettings?: ServerConnection.ISettings
): Promise<IPriceList | null> {
  try {
    return await new CostClient(serverSettings).prices();
  } catch {
    return null;
  }
}

/**
 * A profile's price per hour, or `undefined` when the list does not have it.
 */
export function profilePrice(
  prices: IPriceList | null,
  profile: string
): number | undefined {
  return prices?.profiles.find(p => p.name === profile)?.per_hour;
}

/**
 * An amount of money: "$1.23"; amounts under a cent with up to four
 * decimals ("$0.0042") so a short run does not read as free.
 */
export function formatCost(amount: number, currency = 'USD'): string {
  const small = amount !== 0 && Math.abs(amount) < 0.01;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: small ? 4 : 2
    }).format(amount);
  } catch {
    return `${amount.toFixed(small ? 4 : 2)} ${currency}`; // an unknown code
  }
}

/**
 * A price per hour: "$0.40/h".
 */
export function formatPerHour(amount: number, currency = 'USD'): string {
  return `${formatCost(amount, currency)}/h`;
}

/**
 * The months (`YYYY-MM`, UTC) from `start` to `end` (default now), oldest
 * first: the reports a span of work is billed in.
 */
export function monthsBetween(
  start: string,
  end?: string | null,
  now: number = Date.now()
): string[] {
  const from = new Date(start);
  const to = end ? new Date(end) : new Date(now);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    return [];
  }
  const months: string[] = [];
  let year = from.getUTCFullYear();
  let month = from.getUTCMonth();
  const last = to.getUTCFullYear() * 12 + to.getUTCMonth();
  while (year * 12 + month <= last && months.length < 120) {
    months.push(`${year}-${String(month + 1).padStart(2, '0')}`);
    month += 1;
    if (month === 12) {
      month = 0;
      year += 1;
    }
  }
  return months;
}
