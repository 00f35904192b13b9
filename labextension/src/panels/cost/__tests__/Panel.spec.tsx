import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  act,
  fireEvent,
  screen,
  waitFor,
  within
} from '@testing-library/react';

import { barPosition, budgetLevel } from '../Budgets';
import { CostModel } from '../model';
import { CostPanel } from '../Panel';
import {
  budget,
  costRoutes,
  installResizeObserver,
  report,
  routedServer,
  row
} from './sample';

/**
 * jsdom has no canvas, so uPlot cannot draw here: a stand-in records what
 * the chart was given (the browser test draws the real one).
 */
const mockCharts: { data: any[]; destroyed: boolean }[] = [];
jest.mock('uplot', () => {
  class MockPlot {
    constructor(opts: any, data: any[]) {
      this.record = { data, destroyed: false };
      this.width = opts.width;
      mockCharts.push(this.record);
    }
    record: { data: any[]; destroyed: boolean };
    width: number;
    setData(data: any[]) {
      this.record.data = data;
    }
    setSize() {
      // Nothing is laid out in jsdom.
    }
    destroy() {
      this.record.destroyed = true;
    }
    static paths = { bars: () => () => null };
  }
  return { __esModule: true, default: MockPlot };
});

const translator = nullTranslator;

beforeAll(installResizeObserver);
beforeEach(() => mockCharts.splice(0));

/**
 * The panel, shown in the page (it loads when shown), for a person who is
 * (or is not) an administrator.
 */
async function showPanel(
  answer: Parameters<typeof routedServer>[0],
  admin = false
) {
  const { settings, routes } = routedServer(answer);
  const model = new CostModel({ serverSettings: settings });
  model.setAdmin(admin);
  const panel = new CostPanel({ model, translator });
  await act(async () => {
    Widget.attach(panel, document.body);
  });
  const view = await waitFor(() => {
    const node = screen.getByTestId('labworks-cost-panel');
    expect(node.getAttribute('aria-busy')).toBe('false');
    expect(model.loaded).toBe(true);
    return node;
  });
  return { panel, model, routes, view };
}

function close(panel: CostPanel): void {
  act(() => panel.dispose());
}

describe('CostPanel', () => {
  it('shows spend now, by day and by item, and the groups’', async () => {
    const tables = {
      day: report('day', [row('2026-12-02', 0.5), row('2026-12-05', 0.25)]),
      workspace: report('workspace', [row('alice', 0.6, 'default')]),
      job: report('job', [
        { ...row('4f2a9c81d3e7', 2.5, 'train'), gpu_hours: 1 }
      ]),
      group: report('group', [row('ml', 12)])
    };
    const { panel, view, routes } = await showPanel(costRoutes({ tables }));

    const now = within(view).getByTestId('labworks-cost-now');
    expect(now.textContent).toContain('Now$0.30/h');
    expect(now.textContent).toContain('This workspace$0.12/h');
    expect(now.textContent).toContain('Today$1.40');
    expect(now.textContent).toContain('This month$23.10');
    expect(view.textContent).toContain('Spend by day, 2026-12: $0.75');
    const chart = within(view).getByTestId('labworks-cost-chart');
    expect(chart.getAttribute('aria-label')).toBe(
      'Spend by day in 2026-12: $0.75 in all'
    );
    const drawn = mockCharts[mockCharts.length - 1].data;
    expect(drawn[0]).toHaveLength(31);
    expect(drawn[1][1]).toBe(0.5);
    expect(drawn[1][4]).toBe(0.25);

    const table = within(view).getByTestId('labworks-cost-table');
    const workspace = table.querySelector('tr[data-key="alice"]');
    expect(workspace?.querySelector('td')?.textContent).toBe('defaultalice');
    expect(
      workspace?.querySelector('.jp-Labworks-costAmount')?.textContent
    ).toBe('$0.60');
    expect(table.querySelectorAll('th')).toHaveLength(3); // no GPU used: no GPU-h
    expect(workspace?.getAttribute('title')).toBe(
      'alice: 2.0 reserved core-hours (1.0 used), 4.0 GiB-hours, 0 GPU-hours'
    );
    expect(
      within(view).getByTestId('labworks-cost-groups').textContent
    ).toContain('$12.00');
    expect(within(view).queryByTestId('labworks-cost-users')).toBeNull();
    expect(view.textContent).toContain('You and your groups have no budget.');
    expect(within(view).queryByRole('form')).toBeNull();

    // The table switches to jobs.
    routes.splice(0);
    await act(async () => {
      fireEvent.change(within(view).getByLabelText('Show the spend by'), {
        target: { value: 'job' }
      });
    });
    await waitFor(() =>
      expect(
        within(view)
          .getByTestId('labworks-cost-table')
          .querySelector('tr[data-key="4f2a9c81d3e7"]')?.textContent
      ).toContain('train')
    );
    const jobs = within(view).getByTestId('labworks-cost-table');
    expect(
      Array.from(jobs.querySelectorAll('th')).map(th => th.textContent)
    ).toEqual(['Job', 'Cost', 'CPU-h', 'GPU-h']);
    expect(routes).toContain('GET cost/report?by=job');
    close(panel);
  });

  it('shows budgets as bars with their thresholds marked', async () => {
    const budgets = [
      budget(),
      budget({ scope: 'user', name: 'alice', spent_usd: 130, percent: 130 })
    ];
    const { panel, view } = await showPanel(costRoutes({ budgets }));

    const group = within(view).getByTestId('labworks-budget-group-ml');
    expect(group.textContent).toContain('$60.00 of $100.00 (60%)');
    const bar = within(group).getByRole('meter');
    expect(bar.getAttribute('aria-valuenow')).toBe('60');
    const marks = group.querySelectorAll('.jp-Labworks-budgetMark');
    expect(Array.from(marks).map(m => (m as HTMLElement).style.left)).toEqual([
      '50%',
      '80%',
      '100%'
    ]);
    expect(group.querySelector('.jp-mod-warn')).not.toBeNull();
    const mine = within(view).getByTestId('labworks-budget-user-alice');
    expect(mine.querySelector('.jp-mod-over')).not.toBeNull();
    expect(within(mine).queryByText('Remove')).toBeNull(); // not an administrator
    close(panel);
  });

  it('lets an administrator see everyone and set budgets, with the refusal shown', async () => {
    let listed = [budget()];
    const { panel, view, routes } = await showPanel((route, request) => {
      if (route === 'PUT cost/budgets/group/nope') {
        return {
          status: 404,
          body: { error: 'not_found', message: "no group 'nope'" }
        };
      }
      if (route === 'PUT cost/budgets/user/bob') {
        const set = budget({ scope: 'user', name: 'bob', monthly_usd: 40 });
        listed = [...listed, set];
        return { body: set };
      }
      if (route === 'DELETE cost/budgets/group/ml') {
        listed = listed.filter(b => b.name !== 'ml');
        return { status: 204 };
      }
      const tables = { user: report('user', [row('bob', 3), row('alice', 1)]) };
      return costRoutes({ tables, budgets: listed })(route);
    }, true);

    expect(
      within(view).getByTestId('labworks-cost-users').textContent
    ).toContain('bob');
    expect(routes).toContain('GET cost/report?by=user');
    const form = within(view).getByRole('form', { name: 'Set a budget' });
    const type = (label: string, value: string) =>
      fireEvent.change(within(form).getByLabelText(label), {
        target: { value }
      });

    // A bad amount is refused here, unsent.
    act(() => {
      type('Budget for', 'group');
      type('Name', 'nope');
      type('Monthly budget', 'lots');
    });
    await act(async () => {
      fireEvent.click(within(form).getByText('Set budget'));
    });
    expect(within(form).getByRole('alert').textContent).toBe(
      'The monthly budget is an amount of at least 0.'
    );
    expect(routes.filter(r => r.startsWith('PUT'))).toEqual([]);

    // The platform's refusal is shown.
    act(() => type('Monthly budget', '10'));
    await act(async () => {
      fireEvent.click(within(form).getByText('Set budget'));
    });
    await waitFor(() =>
      expect(within(form).getByRole('alert').textContent).toBe(
        "no group 'nope'"
      )
    );

    // A budget set appears with its bar; one removed disappears.
    act(() => {
      type('Budget for', 'user');
      type('Name', 'bob');
      type('Monthly budget', '40');
    });
    await act(async () => {
      fireEvent.click(within(form).getByText('Set budget'));
    });
    await waitFor(() =>
      expect(within(view).getByTestId('labworks-budget-user-bob')).toBeTruthy()
    );
    expect(within(form).queryByRole('alert')).toBeNull();
    await act(async () => {
      fireEvent.click(
        within(within(view).getByTestId('labworks-budget-group-ml')).getByText(
          'Remove'
        )
      );
    });
    await waitFor(() =>
      expect(within(view).queryByTestId('labworks-budget-group-ml')).toBeNull()
    );
    close(panel);
  });

  it('shows why the figures could not be read', async () => {
    const { settings } = routedServer(() => ({
      status: 502,
      body: {
        error: 'platform_unreachable',
        message: 'platform service unreachable'
      }
    }));
    const model = new CostModel({ serverSettings: settings });
    const panel = new CostPanel({ model, translator });
    await act(async () => {
      Widget.attach(panel, document.body);
    });
    const alert = await waitFor(() => screen.getByRole('alert'));
    expect(alert.textContent).toBe('platform service unreachable');
    close(panel);
  });
});

describe('budget bars', () => {
  it('scale to the highest threshold or use beyond 100%', () => {
    const over = budget({ percent: 150, thresholds: [50, 100, 200] });
    expect(barPosition(over, 100)).toBe(50);
    expect(barPosition(over, 150)).toBe(75);
    expect(budgetLevel(over)).toBe('over');
    expect(budgetLevel(budget({ percent: 10 }))).toBe('ok');
    expect(budgetLevel(budget({ percent: 50 }))).toBe('warn');
  });
});
