import { ServerConnection } from '@jupyterlab/services';

import type { IBudget, IReport, IReportRow, ISummary } from '../types';

/**
 * A summary with this workspace (`alice`) running at $0.12/h.
 */
export function summary(overrides: Partial<ISummary> = {}): ISummary {
  return {
    user: 'alice',
    currency: 'USD',
    burn_per_hour: 0.3,
    today_usd: 1.4,
    month_usd: 23.1,
    running: [
      {
        kind: 'workspace',
        id: 'alice',
        name: 'default',
        profile: 'cpu-small',
        burn_per_hour: 0.12,
        cpu_percent: 3,
        memory_bytes: 1024,
        gpu_utilization: null
      },
      {
        kind: 'job',
        id: '4f2a9c81d3e7',
        name: 'train',
        profile: 'cpu-small',
        burn_per_hour: 0.18,
        cpu_percent: 199,
        memory_bytes: 2048,
        gpu_utilization: null
      }
    ],
    budgets: [],
    workspace: 'alice',
    ...overrides
  };
}

export function row(key: string, cost: number, name = ''): IReportRow {
  return {
    key,
    name,
    cost_usd: cost,
    cpu_hours: 2,
    memory_gb_hours: 4,
    gpu_hours: 0,
    cpu_used_hours: 1
  };
}

export function report(
  by: IReport['by'],
  rows: IReportRow[],
  month = '2026-12'
): IReport {
  return {
    month,
    by,
    currency: 'USD',
    rows,
    total_usd: rows.reduce((sum, r) => sum + r.cost_usd, 0)
  };
}

export function budget(overrides: Partial<IBudget> = {}): IBudget {
  return {
    scope: 'group',
    name: 'ml',
    monthly_usd: 100,
    thresholds: [50, 80, 100],
    spent_usd: 60,
    percent: 60,
    updated_by: 'root',
    ...overrides
  };
}

/**
 * An answer of the routed server: a status and a JSON body (a string is
 * sent as it is), with headers.
 */
export interface IRoutedAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Server settings whose fetch answers each request by its method and path
 * below `/labworks/` (with the query), e.g. `GET cost/report?by=day`, and
 * records it. An unknown route answers 404.
 */
export function routedServer(
  answer: (route: string, request: Request) => IRoutedAnswer | undefined
): { settings: ServerConnection.ISettings; routes: string[] } {
  const routes: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    // The lab adds a cache-busting timestamp to each GET: not part of the route.
    const query = url.search
      .slice(1)
      .split('&')
      .filter(part => part && !/^\d+$/.test(part))
      .join('&');
    const path = url.pathname.split('/labworks/')[1];
    const route = `${request.method} ${path}${query ? `?${query}` : ''}`;
    routes.push(route);
    const found = answer(route, request) ?? {
      status: 404,
      body: { error: 'not_found', message: `no route ${route}` }
    };
    const { status = 200, body, headers = {} } = found;
    const text =
      body === undefined
        ? null
        : typeof body === 'string'
          ? body
          : JSON.stringify(body);
    return new Response(text, { status, headers });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/al ice@lab/',
    fetch: fetch as typeof globalThis.fetch
  });
  return { settings, routes };
}

/**
 * The routes of a panel refresh: the summary, the reports and the budgets.
 */
export function costRoutes(options: {
  month?: string;
  summary?: ISummary;
  tables?: Partial<Record<IReport['by'], IReport>>;
  budgets?: IBudget[];
}): (route: string) => IRoutedAnswer | undefined {
  const month = options.month ?? '2026-12';
  return route => {
    if (route === 'GET cost/summary') {
      return { body: options.summary ?? summary() };
    }
    if (route === 'GET cost/budgets') {
      return { body: { month, budgets: options.budgets ?? [] } };
    }
    const by = /^GET cost\/report\?by=(\w+)(&month=[\d-]+)?$/.exec(route);
    if (by) {
      const kind = by[1] as IReport['by'];
      return { body: options.tables?.[kind] ?? report(kind, [], month) };
    }
    return undefined;
  };
}

/**
 * jsdom has no ResizeObserver (the chart follows its container's width).
 */
export function installResizeObserver(): void {
  if (!('ResizeObserver' in window)) {
    (window as unknown as Record<string, unknown>).ResizeObserver = class {
      observe(): void {
        // jsdom lays nothing out: no size ever changes.
      }
      disconnect(): void {
        // Nothing observed.
      }
    };
  }
}
