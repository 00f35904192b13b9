import { fakeServer } from '../../../__tests__/fakeServer';
import { defaultEndpoint, DeploymentsClient } from '../../deployments';
import { ServeModel } from '../serveModel';
import { deployment } from './sample';

function serving(...answers: Parameters<typeof fakeServer>) {
  const server = fakeServer(...answers);
  const model = new ServeModel({
    client: new DeploymentsClient(server.settings),
    enabled: true,
    pollMs: 0
  });
  return { model, requests: server.requests };
}

describe('defaultEndpoint', () => {
  it('makes a DNS label of a model name', () => {
    expect(defaultEndpoint('Churn Model_v2')).toBe('churn-model-v2');
    expect(defaultEndpoint('--Iris--')).toBe('iris');
    expect(defaultEndpoint('x'.repeat(70))).toHaveLength(63);
  });
});

describe('ServeModel', () => {
  it('serves the version and follows it until ready', async () => {
    const { model, requests } = serving(
      { status: 201, body: deployment() },
      { body: deployment() },
      { body: deployment({ status: 'ready', reason: 'ready' }) }
    );
    model.followName('Churn');
    expect(model.endpoint).toBe('churn');
    const seen: (string | undefined)[] = [];
    model.changed.connect(() => seen.push(model.deployment?.status));
    expect(await model.serve('Churn', '3')).toBe(true);
    expect(model.error).toBeNull();
    expect(model.deployment?.status).toBe('ready');
    expect(seen).toContain('starting'); // the dialog showed it starting
    expect(requests.map(r => [r.method, new URL(r.url).pathname])).toEqual([
      ['POST', '/user/al%20ice@lab/labworks/deployments'],
      ['GET', '/user/al%20ice@lab/labworks/deployments/churn'],
      ['GET', '/user/al%20ice@lab/labworks/deployments/churn']
    ]);
    // No task chosen: none sent, the platform finds it.
    expect(await requests[0].json()).toEqual({
      model: 'Churn',
      version: '3',
      name: 'churn'
    });
  });

  it('sends the chosen task and the name typed, which the model name no longer changes', async () => {
    const { model, requests } = serving({
      status: 201,
      body: deployment({ name: 'my-ep', status: 'ready' })
    });
    model.endpoint = ' my-ep ';
    model.task = 'regression';
    model.followName('Other');
    expect(model.endpoint).toBe('my-ep');
    expect(await model.serve('Churn', '3')).toBe(true);
    expect(await requests[0].json()).toEqual({
      model: 'Churn',
      version: '3',
      name: 'my-ep',
      task: 'regression'
    });
  });

  it("keeps the platform's refusal: a name taken, no task type", async () => {
    const taken = 'the endpoint name churn is taken';
    const noTask =
      'version 3 of Churn has no task type: pass task (classification, regression, multilabel or seq2seq)';
    const { model } = serving(
      { status: 409, body: { error: 'conflict', message: taken } },
      { status: 400, body: { error: 'invalid', message: noTask } }
    );
    model.followName('Churn');
    expect(await model.serve('Churn', '3')).toBe(false);
    expect(model.error).toBe(taken);
    expect(model.deployment).toBeNull();
    expect(await model.serve('Churn', '3')).toBe(false);
    expect(model.error).toBe(noTask);
    model.task = 'classification'; // a change clears the refusal
    expect(model.error).toBeNull();
  });

  it('says why the endpoint failed to start', async () => {
    const { model } = serving(
      { status: 201, body: deployment() },
      {
        body: deployment({
          status: 'failed',
          reason: 'the model server exited: No module named torch'
        })
      }
    );
    model.followName('Churn');
    expect(await model.serve('Churn', '3')).toBe(false);
    expect(model.error).toBe('the model server exited: No module named torch');
    expect(model.deployment?.status).toBe('failed');
  });

  it('sends nothing for an endpoint name the platform would refuse', async () => {
    const { model, requests } = serving();
    model.endpoint = 'Bad_Name';
    expect(model.problem).toMatch(/lower-case letters/);
    expect(await model.serve('Churn', '3')).toBe(false);
    expect(model.error).toMatch(/lower-case letters/);
    expect(requests).toHaveLength(0);
  });

  it('stops following once disposed', async () => {
    const { model, requests } = serving(
      { status: 201, body: deployment() },
      { body: deployment() }
    );
    model.followName('Churn');
    const done = model.serve('Churn', '3');
    model.dispose();
    expect(await done).toBe(false);
    expect(requests.length).toBeLessThanOrEqual(1);
  });
});
