import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen, within } from '@testing-library/react';
import React from 'react';

import { CostClient, ICostReport } from '../../../common/cost';
import { SweepCosts } from '../costs';
import { SweepsModel } from '../model';
import { SweepsView } from '../Panel';
import type { ISweepActions } from '../viewProps';
import { sweep } from './sample';

const trans = nullTranslator.load('labworks');
const ID = '0123456789ab';
const NOW = Date.parse('2026-12-05T12:00:00Z');

function report(month: string, rows: [string, number][]): ICostReport {
  return {
    month,
    by: 'sweep',
    currency: 'USD',
    rows: rows.map(([key, cost]) => ({ key, name: '', cost_usd: cost })),
    total_usd: rows.reduce((sum, [, cost]) => sum + cost, 0)
  };
}

/**
 * A lab server answering the sweeps routes and the cost reports by month
 * (`null`: the cost route refuses); the requests below /labworks/, recorded.
 */
function server(
  sweeps: ReturnType<typeof sweep>[],
  reports: Record<string, ICostReport> | null
) {
  const asked: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname.split('/labworks/')[1];
    const month = url.searchParams.get('month') ?? '';
    asked.push(path === 'cost/report' ? `${path} ${month}` : path);
    let body: unknown;
    if (path === 'sweeps') {
      body = { sweeps };
    } else if (path.startsWith('sweeps/')) {
      body = sweeps.find(s => path === `sweeps/${s.id}`);
    } else if (path === 'cost/report' && reports !== null) {
      body = reports[month] ?? report(month, []);
    }
    return body === undefined
      ? new Response(JSON.stringify({ error: 'not_found', message: 'no' }), {
          status: 404
        })
      : new Response(JSON.stringify(body), { status: 200 });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/al ice@lab/',
    fetch: fetch as typeof globalThis.fetch
  });
  let now = NOW;
  const costs = new SweepCosts(new CostClient(settings), {
    now: () => now,
    currentMonthMs: 30_000
  });
  const model = new SweepsModel({
    serverSettings: settings,
    pollMs: 1e9,
    costs
  });
  return {
    model,
    asked,
    later: (ms: number) => {
      now += ms;
    }
  };
}

const actions: ISweepActions = {
  user: 'alice',
  openRun: null,
  openJob: jest.fn(),
  askTrials: jest.fn(() => Promise.resolve(null)),
  share: jest.fn(() => Promise.resolve()),
  confirmDelete: jest.fn(() => Promise.resolve(false)),
  rerunStarted: jest.fn()
};

describe('sweep costs', () => {
  it('sums a sweep’s months, asking a past month once', async () => {
    const old = sweep({
      id: 'aaaaaaaaaaaa',
      name: 'old',
      status: 'succeeded',
      created_at: '2026-11-30T22:00:00Z',
      finished_at: '2026-12-01T03:00:00Z'
    });
    const running = sweep({
      id: ID,
      name: 'now',
      created_at: '2026-12-05T07:00:00Z',
      finished_at: null
    });
    const { model, asked, later } = server([old, running], {
      '2026-11': report('2026-11', [['aaaaaaaaaaaa', 1.25]]),
      '2026-12': report('2026-12', [
        ['aaaaaaaaaaaa', 0.5],
        [ID, 0.0042]
      ])
    });
    await model.refresh();
    expect(model.costs!.costOf('aaaaaaaaaaaa')).toBeCloseTo(1.75);
    expect(model.costs!.costOf(ID)).toBe(0.0042);
    expect(model.costs!.costOf('bbbbbbbbbbbb')).toBeUndefined();
    render(<SweepsView model={model} actions={actions} trans={trans} />);
    const row = (id: string) =>
      within(screen.getByTestId(`labworks-sweep-${id}`))
        .getAllByRole('cell')
        .map(c => c.textContent);
    expect(
      screen.getAllByRole('columnheader').map(h => h.textContent)
    ).toContain('Cost');
    expect(row('aaaaaaaaaaaa')).toContain('$1.75');
    expect(row(ID)).toContain('$0.0042');

    // Soon after, nothing is asked again; later only the current month.
    await model.refresh();
    later(31_000);
    await model.refresh();
    expect(asked.filter(a => a.startsWith('cost/'))).toEqual([
      'cost/report 2026-11',
      'cost/report 2026-12',
      'cost/report 2026-12'
    ]);
    model.dispose();
  });

  it('shows the cost in the sweep’s detail', async () => {
    const { model } = server(
      [sweep({ id: ID, created_at: '2026-12-05T07:00:00Z' })],
      {
        '2026-12': report('2026-12', [[ID, 2]])
      }
    );
    await model.refresh();
    await model.select(ID);
    render(<SweepsView model={model} actions={actions} trans={trans} />);
    const counts = screen.getByTestId('labworks-sweep-counts');
    expect(counts.textContent).toContain('Cost$2.00');
    model.dispose();
  });

  it('shows no cost, and still the sweeps, when the reports are refused', async () => {
    const { model } = server([sweep({ id: ID })], null);
    await act(() => model.refresh());
    expect(model.error).toBeNull();
    expect(model.sweeps).toHaveLength(1);
    expect(model.costs!.costOf(ID)).toBeUndefined();
    render(<SweepsView model={model} actions={actions} trans={trans} />);
    const cells = within(screen.getByTestId(`labworks-sweep-${ID}`))
      .getAllByRole('cell')
      .map(c => c.textContent);
    expect(cells[cells.length - 1]).toBe('—');
    model.dispose();
  });
});
