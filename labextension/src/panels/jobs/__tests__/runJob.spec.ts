import { nullTranslator } from '@jupyterlab/translation';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { JobsClient } from '../../../common/jobs/client';
import { RunJobState } from '../runJob';
import { sampleDetail, sampleInspect, sampleSchedule, where } from './sample';

const trans = nullTranslator.load('labworks');

async function loaded(...answers: IFakeAnswer[]) {
  const server = fakeServer({ body: sampleInspect() }, ...answers);
  const state = new RunJobState({
    client: new JobsClient(server.settings),
    path: 'work/train.ipynb',
    trans,
    profile: 'cpu-small',
    timezone: 'Europe/Berlin'
  });
  await state.load();
  return { state, requests: server.requests };
}

describe('RunJobState', () => {
  it('reads the parameters of the notebook at its path', async () => {
    const { state, requests } = await loaded();

    expect(where(requests[0])).toEqual({
      path: 'jobs/inspect',
      query: '?path=work%2Ftrain.ipynb'
    });
    expect(state.info?.parameters.map(p => p.name)).toEqual([
      'epochs',
      'rate',
      'dataset',
      'layers',
      'verbose'
    ]);
    expect(state.parameters.texts.epochs).toBe('10');
    expect(state.values).toEqual(
      expect.objectContaining({
        name: 'train.ipynb',
        profile: 'cpu-small',
        timezone: 'Europe/Berlin',
        retries: '0',
        scheduled: false
      })
    );
    state.dispose();
  });

  it('checks a value as it is typed', async () => {
    const { state } = await loaded();

    state.setParameter('epochs', 'ten');
    expect(state.parameters.errors).toEqual({
      epochs: 'must be an integer (int), not "ten"'
    });
    state.setParameter('epochs', '12');
    expect(state.parameters.errors).toEqual({});
    state.dispose();
  });

  it('refuses to submit with a wrong field, without asking the server', async () => {
    const { state, requests } = await loaded();
    state.setParameter('layers', '64, 32');
    state.set('retries', '11');
    state.set('timeoutMinutes', '0');

    expect(await state.submit()).toBeNull();

    expect(requests).toHaveLength(1); // the inspection only
    expect(Object.keys(state.parameters.errors)).toEqual(['layers']);
    expect(state.fieldErrors.retries).toBe('a whole number from 0 to 10');
    expect(state.fieldErrors.timeoutMinutes).toMatch(/^minutes, more than 0/);
    expect(state.error).toBe('Correct the fields marked in red first.');

    state.set('retries', '2'); // a corrected field loses its error at once
    expect(state.fieldErrors.retries).toBeUndefined();
    state.dispose();
  });

  it('submits the path, the changed values typed, and the settings', async () => {
    const { state, requests } = await loaded({
      status: 201,
      body: sampleDetail({ status: 'queued' })
    });
    state.setParameter('epochs', '40');
    state.setParameter('verbose', 'true');
    state.set('name', ' nightly ');
    state.set('timeoutMinutes', '1.5');
    state.set('retries', '2');
    state.set('group', 'ml');
    state.set('kernel', 'labworks-python3');

    const result = await state.submit();

    expect(result).toEqual({
      kind: 'job',
      job: expect.objectContaining({ status: 'queued' })
    });
    expect(requests[1].method).toBe('POST');
    expect(where(requests[1]).path).toBe('jobs');
    expect(await requests[1].json()).toEqual({
      path: 'work/train.ipynb',
      name: 'nightly',
      parameters: { epochs: 40, verbose: true },
      retries: 2,
      profile: 'cpu-small',
      kernel_name: 'labworks-python3',
      timeout: 90,
      share_with_group: 'ml'
    });
    state.dispose();
  });

  it('shows the platform’s refusal and can submit again', async () => {
    const { state } = await loaded(
      {
        status: 400,
        body: {
          error: 'bad_request',
          message: "unknown profile 'huge'; choose one of: cpu-small"
        }
      },
      { status: 201, body: sampleDetail() }
    );
    state.set('profile', 'huge');

    expect(await state.submit()).toBeNull();
    expect(state.error).toBe(
      "unknown profile 'huge'; choose one of: cpu-small"
    );
    expect(state.busy).toBe(false);

    state.set('profile', 'cpu-small');
    expect(state.error).toBeNull();
    expect((await state.submit())?.kind).toBe('job');
    state.dispose();
  });

  it('cannot submit a notebook it could not read', async () => {
    const server = fakeServer({
      status: 404,
      body: { error: 'not_found', message: 'no notebook at gone.ipynb' }
    });
    const state = new RunJobState({
      client: new JobsClient(server.settings),
      path: 'gone.ipynb',
      trans
    });
    await state.load();

    expect(state.loadError).toBe('no notebook at gone.ipynb');
    expect(await state.submit()).toBeNull();
    expect(server.requests).toHaveLength(1);
    state.dispose();
  });

  it('previews the next runs of a schedule and creates it', async () => {
    const preview = {
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      next_runs: [
        '2026-11-24T02:30:00+01:00',
        '2026-11-25T02:30:00+01:00',
        '2026-11-26T02:30:00+01:00'
      ]
    };
    const { state, requests } = await loaded(
      {
        status: 400,
        body: {
          error: 'bad_request',
          message: "invalid cron expression 'every day': use five fields"
        }
      },
      { body: preview },
      { status: 201, body: sampleSchedule() }
    );
    state.set('scheduled', true);
    state.set('cron', 'every day');
    await state.refreshPreview();
    expect(state.previewError).toBe(
      "invalid cron expression 'every day': use five fields"
    );
    expect(await requests[1].json()).toEqual({
      cron: 'every day',
      timezone: 'Europe/Berlin',
      count: 3
    });
    expect(await state.submit()).toBeNull();
    expect(state.fieldErrors.cron).toBe(
      "invalid cron expression 'every day': use five fields"
    );

    state.set('cron', ' 30 2 * * * ');
    await state.refreshPreview();
    expect(state.preview?.next_runs).toHaveLength(3);
    expect(state.previewError).toBeNull();

    const result = await state.submit();
    expect(result?.kind).toBe('schedule');
    expect(where(requests[3]).path).toBe('schedules');
    expect(await requests[3].json()).toEqual(
      expect.objectContaining({
        path: 'work/train.ipynb',
        cron: '30 2 * * *',
        timezone: 'Europe/Berlin',
        parameters: {}
      })
    );
    state.dispose();
  });

  it('asks for the preview once typing pauses', async () => {
    jest.useFakeTimers();
    try {
      const { state, requests } = await loaded({
        body: { cron: '@daily', timezone: 'UTC', next_runs: [] }
      });
      state.set('scheduled', true);
      state.set('cron', '@dai');
      state.set('cron', '@daily');
      await jest.advanceTimersByTimeAsync(1000);
      expect(requests).toHaveLength(2);
      expect((await requests[1].json()).cron).toBe('@daily');
      state.dispose();
    } finally {
      jest.useRealTimers();
    }
  });
});
