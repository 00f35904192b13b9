import type {
  IExperiment,
  IRun,
  IRunsPage
} from '../../../common/experiments/types';

export { sampleRun } from '../../../common/experiments/__tests__/sample';

/**
 * A page of the runs table as experiments/runs/table sends it: the runs and
 * the keys they have.
 */
export function samplePage(runs: IRun[], next?: string): IRunsPage {
  const keys = (items: { key: string }[][]): string[] => {
    const found = new Set<string>();
    items.forEach(list => list.forEach(item => found.add(item.key)));
    return [...found].sort();
  };
  return {
    runs,
    next_page_token: next ?? null,
    keys: {
      metrics: keys(runs.map(r => r.data.metrics ?? [])),
      params: keys(runs.map(r => r.data.params ?? [])),
      tags: keys(runs.map(r => r.data.tags ?? []))
    }
  };
}

/**
 * An experiment as experiments/search sends it.
 */
export function sampleExperiment(id = '7', name = 'users/alice'): IExperiment {
  return {
    experiment_id: id,
    name,
    lifecycle_stage: 'active',
    last_update_time: 1_700_000_000_000
  };
}

/**
 * The path below /labworks/ and the query of a request the fake server got.
 */
export function where(request: Request): {
  path: string;
  query: URLSearchParams;
} {
  const url = new URL(request.url);
  return {
    path: decodeURIComponent(url.pathname).replace(/^.*\/labworks\//, ''),
    query: url.searchParams
  };
}

/**
 * Browsers have ResizeObserver, jsdom has not: one that never calls back.
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
