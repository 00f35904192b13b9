import { nullTranslator } from '@jupyterlab/translation';

import { CostModel, dailySeries, parseBudget } from '../model';
import { budget, costRoutes, report, routedServer, row } from './sample';

const trans = nullTranslator.load('labworks');

describe('parseBudget', () => {
  const fields = {
    scope: 'group' as const,
    name: ' ml ',
    monthly: '250.5',
    thresholds: '80, 50,100'
  };

  it('reads a budget from the form', () => {
    expect(parseBudget(fields, trans)).toEqual({
      scope: 'group',
      name: 'ml',
      monthlyUsd: 250.5,
      thresholds: [80, 50, 100]
    });
    expect(parseBudget({ ...fields, thresholds: ' ' }, trans)).toMatchObject({
      thresholds: [50, 80, 100]
    });
  });

  it('says what is wrong with a bad one', () => {
    expect(parseBudget({ ...fields, name: '' }, trans)).toBe(
      'Name the group the budget is for.'
    );
    for (const monthly of ['', '-1', 'lots']) {
      expect(parseBudget({ ...fields, monthly }, trans)).toBe(
        'The monthly budget is an amount of at least 0.'
      );
    }
    for (const thresholds of ['50, 80.5', '0', '1001', '50,,80']) {
      expect(parseBudget({ ...fields, thresholds }, trans)).toMatch(
        /^Thresholds are whole percentages from 1 to 1000/
      );
    }
  });
});

describe('dailySeries', () => {
  it('puts each day of the month, a day without usage at 0', () => {
    const [days, costs] = dailySeries(
      report(
        'day',
        [row('2026-02-03', 1.5), row('2026-02-28', 0.25)],
        '2026-02'
      )
    );
    expect(days).toHaveLength(28);
    expect(costs[2]).toBe(1.5);
    expect(costs[27]).toBe(0.25);
    expect(costs.reduce((a, b) => a + b, 0)).toBe(1.75);
  });
});

describe('CostModel', () => {
  it('asks for the summary, the reports and the budgets', async () => {
    const daily = report('day', [row('2026-12-05', 0.4)]);
    const { settings, routes } = routedServer(
      costRoutes({ tables: { day: daily }, budgets: [budget()] })
    );
    const model = new CostModel({ serverSettings: settings });

    expect(await model.refresh()).toBe(true);
    expect(model.loaded).toBe(true);
    expect(model.daily).toEqual(daily);
    expect(model.summary?.user).toBe('alice');
    expect(model.budgets).toHaveLength(1);
    expect(model.users).toBeNull(); // not an administrator: no one else's
    expect(routes.sort()).toEqual([
      'GET cost/budgets',
      'GET cost/report?by=day',
      'GET cost/report?by=group',
      'GET cost/report?by=workspace',
      'GET cost/summary'
    ]);
    model.dispose();
  });

  it('asks for everyone’s cost for an administrator, by month and by item', async () => {
    const { settings, routes } = routedServer(costRoutes({ month: '2026-11' }));
    const model = new CostModel({ serverSettings: settings });
    model.setAdmin(true);

    await model.setMonth('2026-11');
    routes.splice(0);
    expect(await model.setBy('job')).toBe(true);

    expect(model.by).toBe('job');
    expect(model.table?.by).toBe('job');
    expect(model.users?.by).toBe('user');
    expect(routes).toContain('GET cost/report?by=job&month=2026-11');
    expect(routes).toContain('GET cost/report?by=user&month=2026-11');
    model.dispose();
  });

  it('polls while shown and stops when hidden', async () => {
    const { settings, routes } = routedServer(costRoutes({}));
    const model = new CostModel({ serverSettings: settings, pollMs: 10 });
    await model.refresh();
    const asked = routes.length;

    model.watch(true);
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(routes.length).toBeGreaterThan(asked);
    model.watch(false);
    await new Promise(resolve => setTimeout(resolve, 20)); // one under way ends
    const stopped = routes.length;
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(routes).toHaveLength(stopped);
    model.dispose();
  });

  it('sets and removes budgets, and keeps the platform’s refusal', async () => {
    const set = budget({ name: 'vision', spent_usd: 0, percent: 0 });
    let listed = [budget()];
    const bodies: unknown[] = [];
    const { settings, routes } = routedServer((route, request) => {
      if (route === 'PUT cost/budgets/group/vision') {
        void request.text().then(text => bodies.push(JSON.parse(text)));
        listed = [...listed, set];
        return { body: set };
      }
      if (route === 'DELETE cost/budgets/group/ml') {
        listed = listed.filter(b => b.name !== 'ml');
        return { status: 204 };
      }
      if (route === 'PUT cost/budgets/user/al%20ice') {
        return {
          status: 403,
          body: {
            error: 'forbidden',
            message:
              'only administrators set budgets; ask one to set or raise yours'
          }
        };
      }
      return costRoutes({ budgets: listed })(route);
    });
    const model = new CostModel({ serverSettings: settings });
    await model.refresh();

    const request = {
      scope: 'group' as const,
      name: 'vision',
      monthlyUsd: 50,
      thresholds: [50, 100]
    };
    expect(await model.setBudget(request)).toBe(true);
    expect(bodies).toEqual([{ monthly_usd: 50, thresholds: [50, 100] }]);
    expect(model.budgets.map(b => b.name)).toEqual(['ml', 'vision']);
    expect(model.budgetError).toBeNull();

    expect(await model.removeBudget(budget())).toBe(true);
    expect(model.budgets.map(b => b.name)).toEqual(['vision']);

    expect(
      await model.setBudget({ ...request, scope: 'user', name: 'al ice' })
    ).toBe(false);
    expect(model.budgetError).toBe(
      'only administrators set budgets; ask one to set or raise yours'
    );
    expect(model.error).toBeNull(); // the panel's figures are fine
    expect(await model.setBudget('Name the user the budget is for.')).toBe(
      false
    );
    expect(model.budgetError).toBe('Name the user the budget is for.');
    expect(routes.filter(r => r.startsWith('PUT'))).toHaveLength(2);
    model.dispose();
  });

  it('downloads the shown table as the platform’s CSV file', async () => {
    const { settings, routes } = routedServer(route =>
      route === 'GET cost/report?by=sweep&format=csv&month=2026-11'
        ? {
            body: 'key,name,cost_usd\nabc,quad,0.5\n',
            headers: {
              'Content-Type': 'text/csv',
              'Content-Disposition':
                'attachment; filename="labworks-cost-2026-11-by-sweep.csv"'
            }
          }
        : costRoutes({ month: '2026-11' })(route)
    );
    const model = new CostModel({ serverSettings: settings });
    await model.setMonth('2026-11');
    await model.setBy('sweep');
    routes.splice(0);

    expect(await model.csv()).toEqual({
      text: 'key,name,cost_usd\nabc,quad,0.5\n',
      filename: 'labworks-cost-2026-11-by-sweep.csv'
    });
    expect(routes).toEqual([
      'GET cost/report?by=sweep&format=csv&month=2026-11'
    ]);
    model.dispose();
  });

  it('shows the platform’s refusal of a report', async () => {
    const { settings } = routedServer(route =>
      route.startsWith('GET cost/report')
        ? { status: 422, body: { error: 'invalid', message: 'month: bad' } }
        : costRoutes({})(route)
    );
    const model = new CostModel({ serverSettings: settings });

    expect(await model.refresh()).toBe(false);
    expect(model.error).toBe('month: bad');
    expect(model.loaded).toBe(false);
    model.dispose();
  });
});
