import { fakeServer } from '../../../__tests__/fakeServer';
import { bestTrial, shouldPoll, SweepsModel } from '../model';
import { sweep, trial } from './sample';

function sent(requests: Request[]): string[] {
  return requests.map(r => {
    const path = new URL(r.url).pathname.split('/labworks/')[1];
    return `${r.method} ${path}`;
  });
}

const ID = '0123456789ab';

describe('shouldPoll', () => {
  it('polls while a listed or the shown sweep runs, not otherwise', () => {
    const done = sweep({ status: 'succeeded' });
    expect(shouldPoll([done], null)).toBe(false);
    expect(shouldPoll([done, sweep()], null)).toBe(true);
    expect(shouldPoll([done], sweep())).toBe(true);
    expect(shouldPoll([], sweep({ status: 'stopped' }))).toBe(false);
  });
});

describe('bestTrial', () => {
  it('finds the trial the sweep names best, or none', () => {
    expect(bestTrial(sweep())?.job_id).toBe('job1');
    expect(bestTrial(sweep({ best_trial: null }))).toBeNull();
    expect(bestTrial(sweep({ best_trial: 9 }))).toBeNull();
  });
});

describe('SweepsModel', () => {
  it('lists the sweeps, then shows one with its trials', async () => {
    const listed = sweep({ status: 'succeeded' });
    const { settings, requests } = fakeServer(
      { body: { sweeps: [listed] } },
      { body: listed }
    );
    const model = new SweepsModel({ serverSettings: settings });

    expect(await model.refresh()).toBe(true);
    expect(model.loaded).toBe(true);
    expect(model.sweeps.map(s => s.id)).toEqual([ID]);
    expect(await model.select(ID)).toBe(true);
    expect(model.selected?.trial_list).toHaveLength(3);
    expect(sent(requests)).toEqual(['GET sweeps', `GET sweeps/${ID}`]);
    model.dispose();
  });

  it('polls the list and the shown sweep while it runs, and stops when it ends', async () => {
    const ended = sweep({ status: 'succeeded' });
    const { settings, requests } = fakeServer(
      { body: sweep() },
      { body: { sweeps: [ended] } },
      { body: ended }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 10 });
    const finished = new Promise<void>(resolve =>
      model.changed.connect(() => {
        if (model.selected?.status === 'succeeded' && !model.busy) {
          resolve();
        }
      })
    );
    await model.select(ID);
    await finished;

    expect(sent(requests)).toEqual([
      `GET sweeps/${ID}`,
      'GET sweeps',
      `GET sweeps/${ID}`
    ]);
    expect(model.sweeps.map(s => s.status)).toEqual(['succeeded']);
    // Ten poll periods later, nothing more was asked (an ended sweep is not polled).
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(requests).toHaveLength(3);
    expect(model.error).toBeNull();
    model.dispose();
  });

  it('stops the shown sweep and keeps the platform’s refusal', async () => {
    const stopped = sweep({ status: 'stopped' });
    const { settings, requests } = fakeServer(
      { body: sweep() },
      { body: stopped },
      {
        status: 409,
        body: {
          error: 'conflict',
          message: 'sweep 0123456789ab is not running'
        }
      }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
    await model.select(ID);

    expect(await model.stop()).toBe(true);
    expect(model.selected?.status).toBe('stopped');
    expect(model.sweeps.map(s => s.status)).toEqual(['stopped']);
    expect(await model.stop()).toBe(false);
    expect(model.error).toBe('sweep 0123456789ab is not running');
    expect(sent(requests)).toEqual([
      `GET sweeps/${ID}`,
      `POST sweeps/${ID}/stop`,
      `POST sweeps/${ID}/stop`
    ]);
    model.dispose();
  });

  it('extends by the number asked', async () => {
    const { settings, requests } = fakeServer(
      { body: sweep({ status: 'succeeded' }) },
      { body: sweep({ trials: 13 }) }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
    await model.select(ID);

    expect(await model.extend(5)).toBe(true);
    expect(await requests[1].json()).toEqual({ trials: 5 });
    expect(model.selected?.trials).toBe(13);
    model.dispose();
  });

  it('re-runs the best trial’s job through the jobs routes', async () => {
    const { settings, requests } = fakeServer(
      { body: sweep({ status: 'succeeded' }) },
      { status: 201, body: { id: 'newjob', name: 'quad.ipynb' } }
    );
    const model = new SweepsModel({ serverSettings: settings });
    await model.select(ID);

    const job = await model.rerunBest();
    expect(job?.id).toBe('newjob');
    expect(sent(requests)[1]).toBe('POST jobs/job1/rerun');
    expect(await requests[1].json()).toEqual({ parameters: null });
    model.dispose();
  });

  it('does not re-run when there is no best trial yet', async () => {
    const { settings, requests } = fakeServer({
      body: sweep({
        status: 'stopped',
        best_trial: null,
        trial_list: [trial(0)]
      })
    });
    const model = new SweepsModel({ serverSettings: settings });
    await model.select(ID);

    expect(await model.rerunBest()).toBeNull();
    expect(requests).toHaveLength(1);
    model.dispose();
  });
});

describe('SweepsModel: delete and register', () => {
  it('deletes the shown sweep and goes back to the list without it', async () => {
    const other = sweep({ id: 'ba9876543210', status: 'succeeded' });
    const shown = sweep({ status: 'succeeded' });
    const { settings, requests } = fakeServer(
      { body: { sweeps: [shown, other] } },
      { body: shown },
      { status: 204 }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
    await model.refresh();
    await model.select(ID);

    expect(await model.delete()).toBe(true);
    expect(model.selected).toBeNull();
    expect(model.sweeps.map(s => s.id)).toEqual(['ba9876543210']);
    expect(sent(requests)[2]).toBe(`DELETE sweeps/${ID}`);
    model.dispose();
  });

  it('keeps the sweep shown with the platform’s refusal', async () => {
    const { settings } = fakeServer(
      { body: sweep({ status: 'succeeded' }) },
      {
        status: 403,
        body: { error: 'forbidden', message: 'only alice can delete sweep' }
      }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
    await model.select(ID);

    expect(await model.delete()).toBe(false);
    expect(model.selected?.id).toBe(ID);
    expect(model.error).toBe('only alice can delete sweep');
    model.dispose();
  });

  it('opens the register dialog’s model on the best trial’s MLflow run', async () => {
    const run = {
      info: {
        run_id: 'run1',
        experiment_id: '1',
        artifact_uri: 'mlflow-artifacts:/1/run1/artifacts'
      },
      data: {}
    };
    const { settings, requests } = fakeServer(
      { body: sweep({ status: 'succeeded' }) },
      { body: { run } }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
    await model.select(ID);

    const dialog = await model.registerBest();
    expect(dialog).not.toBeNull();
    expect(new URL(requests[1].url).searchParams.get('run_id')).toBe('run1');
    expect(sent(requests)[1]).toBe('GET mlflow/api/2.0/mlflow/runs/get');
    dialog!.dispose();
    model.dispose();
  });

  it('has no register dialog without a best run, or when the run is gone', async () => {
    const { settings, requests } = fakeServer(
      { body: sweep({ best_trial: null, best_run_id: null }) },
      { body: sweep({ status: 'succeeded' }) },
      {
        status: 404,
        body: { error: 'not_found', message: 'Run run1 not found' }
      }
    );
    const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
    await model.select(ID);
    expect(await model.registerBest()).toBeNull();
    expect(requests).toHaveLength(1);

    await model.select(ID);
    expect(await model.registerBest()).toBeNull();
    expect(model.error).toBe('Run run1 not found');
    model.dispose();
  });
});
