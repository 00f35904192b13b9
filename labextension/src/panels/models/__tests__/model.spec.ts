import { fakeServer } from '../../../__tests__/fakeServer';
import { ModelsModel } from '../model';
import type { IDeploymentDetail } from '../types';

function deployment(
  changes: Partial<IDeploymentDetail> = {}
): IDeploymentDetail {
  return {
    name: 'iris',
    owner: 'ann',
    visibility: 'private',
    model: 'Iris',
    version: '1',
    canary_version: null,
    canary_percent: 0,
    task: 'classification',
    status: 'starting',
    reason: '',
    url: 'http://hub/services/labworks/models/v2/models/iris/infer',
    created_at: '2026-12-05T14:00:00Z',
    updated_at: '2026-12-05T14:00:00Z',
    servers: [],
    events: [],
    ...changes
  };
}

function sent(requests: Request[]): string[] {
  return requests.map(
    r => `${r.method} ${new URL(r.url).pathname.split('/labworks/')[1]}`
  );
}

describe('ModelsModel', () => {
  it('polls the deployments and the shown one while shown, quietly, and stops when hidden', async () => {
    const ready = deployment({ status: 'ready' });
    const { settings, requests } = fakeServer(
      { body: { models: [] } },
      { body: { deployments: [deployment()] } },
      { body: deployment() },
      { body: { deployments: [ready] } },
      { body: ready }
    );
    const model = new ModelsModel({ serverSettings: settings, pollMs: 5 });
    await model.refresh();
    await model.select('iris');
    expect(model.selected?.status).toBe('starting');
    const busyWhilePolling: boolean[] = [];
    const polled = new Promise<void>(resolve =>
      model.changed.connect(() => {
        busyWhilePolling.push(model.busy);
        if (model.selected?.status === 'ready') {
          resolve();
        }
      })
    );
    model.watch(true);
    await polled;
    model.watch(false);
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(sent(requests)).toEqual([
      'GET models',
      'GET deployments',
      'GET deployments/iris',
      'GET deployments',
      'GET deployments/iris'
    ]);
    expect(busyWhilePolling).toEqual([false]);
    expect(model.deployments[0].status).toBe('ready');
    model.dispose();
  });

  it('takes the shown deployment down and goes back to the lists', async () => {
    const { settings, requests } = fakeServer(
      { body: { models: [] } },
      { body: { deployments: [deployment()] } },
      { body: deployment() },
      { status: 202, body: deployment({ status: 'stopped' }) }
    );
    const model = new ModelsModel({ serverSettings: settings });
    await model.refresh();
    await model.select('iris');
    expect(await model.undeploy()).toBe(true);
    expect(model.selected).toBeNull();
    expect(model.deployments).toEqual([]);
    expect(sent(requests)).toEqual([
      'GET models',
      'GET deployments',
      'GET deployments/iris',
      'DELETE deployments/iris'
    ]);
    model.dispose();
  });
});
