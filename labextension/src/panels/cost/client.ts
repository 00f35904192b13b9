import { requestAPI, requestResponse } from '../../api';
import { CostClient } from '../../common/cost';
import type {
  BudgetScope,
  CostBy,
  IBudget,
  IBudgetList,
  IReport,
  ISummary
} from './types';

/**
 * A report as a CSV file: its text and the file name the platform gives it.
 */
export interface ICsvFile {
  text: string;
  filename: string;
}

/**
 * The cost client of the Cost panel and the meter: the shared one (prices,
 * reports) with the summary, CSV reports and budgets. Every method rejects
 * with an `APIError` carrying the platform's message when refused (403 for
 * anyone but an administrator changing a budget).
 */
export class CostPanelClient extends CostClient {
  /**
   * A month's cost by `by` (`month`: `YYYY-MM`, `null` for this month).
   */
  monthReport(by: CostBy, month: string | null): Promise<IReport> {
    return this.report(by, month ?? undefined) as Promise<IReport>;
  }

  /**
   * The same report as CSV, for a download.
   */
  async reportCsv(by: CostBy, month: string | null): Promise<ICsvFile> {
    const query = new URLSearchParams({ by, format: 'csv' });
    if (month !== null) {
      query.set('month', month);
    }
    const response = await requestResponse(
      `cost/report?${query}`,
      {},
      this.serverSettings
    );
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const named = /filename="([^"]+)"/.exec(disposition);
    return {
      text: await response.text(),
      filename: named?.[1] ?? `labworks-cost-${month ?? 'month'}-by-${by}.csv`
    };
  }

  summary(): Promise<ISummary> {
    return this._call('summary');
  }

  async budgets(): Promise<IBudget[]> {
    return (await this._call<IBudgetList>('budgets')).budgets;
  }

  /**
   * Set a user's or group's monthly budget (administrators only).
   */
  setBudget(
    scope: BudgetScope,
    name: string,
    monthlyUsd: number,
    thresholds: number[]
  ): Promise<IBudget> {
    return this._call(budgetPath(scope, name), 'PUT', {
      monthly_usd: monthlyUsd,
      thresholds
    });
  }

  /**
   * Remove a budget (administrators only).
   */
  deleteBudget(scope: BudgetScope, name: string): Promise<void> {
    return this._call(budgetPath(scope, name), 'DELETE');
  }

  private _call<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(`cost/${path}`, init, this.serverSettings);
  }
}

function budgetPath(scope: BudgetScope, name: string): string {
  return `budgets/${scope}/${encodeURIComponent(name)}`;
}
