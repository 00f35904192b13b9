import { CostMeterModel } from '../meter';
import { routedServer, summary } from './sample';

/**
 * A page whose visibility the test sets.
 */
class FakePage extends EventTarget {
  hidden = false;

  show(visible: boolean): void {
    this.hidden = !visible;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

function meter(
  answer: Parameters<typeof routedServer>[0],
  options: Partial<CostMeterModel.IOptions> = {}
) {
  const { settings, routes } = routedServer(answer);
  const page = new FakePage();
  const model = new CostMeterModel({
    serverSettings: settings,
    document: page as unknown as Document,
    pollMs: 20,
    ...options
  });
  return { model, routes, page };
}

const wait = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe('CostMeterModel', () => {
  it('asks for the summary and keeps asking while the page is visible', async () => {
    const { model, routes } = meter(() => ({ body: summary() }));

    expect(await model.refresh()).toBe(true);
    expect(model.summary?.today_usd).toBe(1.4);
    await wait(110);
    expect(routes.length).toBeGreaterThanOrEqual(3);
    expect(new Set(routes)).toEqual(new Set(['GET cost/summary']));
    model.dispose();
    const asked = routes.length;
    await wait(60);
    expect(routes).toHaveLength(asked);
  });

  it('stops while the page is hidden and asks at once when it is shown', async () => {
    const { model, routes, page } = meter(() => ({ body: summary() }), {
      pollMs: 10_000
    });
    await model.refresh();
    page.show(false);
    await wait(20);
    expect(routes).toHaveLength(1);

    const asked = new Promise<void>(resolve =>
      model.changed.connect(() => {
        if (!model.busy) {
          resolve();
        }
      })
    );
    page.show(true);
    await asked;
    expect(routes).toHaveLength(2);
    model.dispose();
  });

  it('asks sooner while this workspace has no sample yet', async () => {
    let answers = 0;
    const { model, routes } = meter(
      () => {
        answers += 1;
        return {
          body: summary(answers === 1 ? { running: [], burn_per_hour: 0 } : {})
        };
      },
      { pollMs: 10_000, soonMs: 10 }
    );
    const sampled = new Promise<void>(resolve =>
      model.changed.connect(() => {
        if (!model.busy && model.summary?.running.length) {
          resolve();
        }
      })
    );
    await model.refresh();
    await sampled;
    expect(routes).toHaveLength(2);
    await wait(40);
    expect(routes).toHaveLength(2); // sampled: back to the long period
    model.dispose();
  });

  it('stops for good when refused (a visitor of a shared workspace)', async () => {
    const message = 'only bob, who owns this workspace, can see costs from it';
    const { model, routes } = meter(() => ({
      status: 403,
      body: { error: 'forbidden', message }
    }));

    expect(await model.refresh()).toBe(false);
    expect(model.refused).toBe(true);
    expect(model.error).toBe(message);
    expect(model.summary).toBeNull();
    await wait(60);
    expect(await model.refresh()).toBe(false);
    expect(routes).toHaveLength(1);
    model.dispose();
  });

  it('keeps the last figures and its error when the platform fails', async () => {
    let fail = false;
    const { model } = meter(
      () =>
        fail
          ? { status: 502, body: { error: 'x', message: 'platform down' } }
          : { body: summary() },
      { pollMs: 10_000 }
    );
    await model.refresh();
    fail = true;
    expect(await model.refresh()).toBe(false);
    expect(model.summary?.month_usd).toBe(23.1);
    expect(model.error).toBe('platform down');
    expect(model.refused).toBe(false);
    model.dispose();
  });
});
