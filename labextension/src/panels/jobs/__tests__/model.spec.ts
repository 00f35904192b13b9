import { fakeServer } from '../../../__tests__/fakeServer';
import { JobsModel, LOG_KEEP_CHARS } from '../model';
import type { IJob } from '../../../common/jobs/types';
import {
  sampleDetail,
  sampleInspect,
  sampleJob,
  sampleLog,
  where
} from './sample';

function listing(...jobs: IJob[]) {
  return { body: { jobs, total: jobs.length, limit: 100, offset: 0 } };
}

describe('JobsModel listing', () => {
  it('lists with the filter: repeated statuses, search and mine', async () => {
    const { settings, requests } = fakeServer(listing(sampleJob()), listing());
    const model = new JobsModel({ serverSettings: settings });

    expect(await model.refresh()).toBe(true);
    expect(model.jobs.map(j => j.id)).toEqual(['4f0c2a9e81d3']);
    expect(model.loaded).toBe(true);

    await model.setFilter({
      statuses: ['queued', 'running'],
      search: 'tr ain',
      mine: true
    });
    expect(where(requests[1])).toEqual({
      path: 'jobs',
      query: '?status=queued&status=running&q=tr+ain&mine=true&limit=100'
    });
    expect(model.jobs).toEqual([]);
    model.dispose();
  });

  it('keeps the error of a refused request and the last jobs', async () => {
    const { settings } = fakeServer(listing(sampleJob()), {
      status: 502,
      body: {
        error: 'platform_unreachable',
        message: 'platform service unreachable at http://x: refused'
      }
    });
    const model = new JobsModel({ serverSettings: settings });
    await model.refresh();

    expect(await model.refresh()).toBe(false);
    expect(model.error).toBe(
      'platform service unreachable at http://x: refused'
    );
    expect(model.jobs).toHaveLength(1);
    model.dispose();
  });
});

describe('JobsModel open job', () => {
  it('opens a job with its log and the parameters its notebook declares', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleDetail() },
      { body: sampleLog({ text: 'all\n', next_offset: 4, complete: true }) },
      { body: sampleInspect() }
    );
    const model = new JobsModel({ serverSettings: settings });

    expect(await model.select('4f0c2a9e81d3')).toBe(true);

    expect(requests.map(r => where(r).path + where(r).query)).toEqual([
      'jobs/4f0c2a9e81d3',
      'jobs/4f0c2a9e81d3/logs?offset=0&limit=65536',
      'jobs/4f0c2a9e81d3/parameters'
    ]);
    expect(model.selected?.events).toHaveLength(2);
    expect(model.log).toEqual(
      expect.objectContaining({ text: 'all\n', complete: true })
    );
    expect(model.selectedParameters?.map(p => p.name)).toContain('epochs');
    expect(model.parametersExact).toBe(true);

    await model.select('4f0c2a9e81d3'); // the same id closes it
    expect(model.selected).toBeNull();
    expect(model.log).toBeNull();
    model.dispose();
  });

  it('tails the log of a running job from where it ended', async () => {
    const running = sampleDetail({
      status: 'running',
      has_output: false,
      finished_at: null,
      duration_seconds: null
    });
    const { settings, requests } = fakeServer(
      { body: running },
      { body: sampleLog() },
      listing(running), // poll: watch for ends
      listing(running), // poll: the listing
      { body: running }, // poll: the open job
      { body: sampleLog({ offset: 8, next_offset: 16, text: 'epoch 2\n' }) }
    );
    const model = new JobsModel({ serverSettings: settings });
    await model.select(running.id);
    expect(model.log?.text).toBe('epoch 1\n');
    expect(model.selectedParameters).toEqual([
      { name: 'epochs', type: 'int', default: null, default_text: '', help: '' }
    ]);
    expect(model.parametersExact).toBe(false);

    model.active = true;
    await model.poll();

    expect(where(requests[1]).query).toBe('?offset=0&limit=65536');
    expect(where(requests[5]).query).toBe('?offset=8&limit=65536');
    expect(requests).toHaveLength(6);
    expect(model.log?.text).toBe('epoch 1\nepoch 2\n');
    expect(model.log?.complete).toBe(false);
    model.dispose();
  });

  it('starts over when a retry begins a new attempt, and keeps only the end of long logs', async () => {
    const first = sampleDetail({ status: 'running', attempt: 1 });
    const long = 'x'.repeat(LOG_KEEP_CHARS);
    const { settings } = fakeServer(
      { body: first },
      { body: sampleLog({ text: long, next_offset: long.length }) },
      {
        body: sampleLog({
          offset: long.length,
          next_offset: long.length + 4,
          text: 'end\n'
        })
      },
      { body: sampleInspect() },
      listing(), // poll: watch
      listing(), // poll: listing
      { body: { ...first, attempt: 2 } }, // poll: the open job, retried
      { body: sampleLog({ attempt: 2, offset: long.length + 4, text: '' }) },
      { body: sampleLog({ attempt: 2, text: 'attempt 2\n', next_offset: 10 }) }
    );
    const model = new JobsModel({ serverSettings: settings });
    await model.select(first.id);
    expect(model.log?.text.length).toBe(LOG_KEEP_CHARS);
    expect(model.log?.text.endsWith('end\n')).toBe(true);
    expect(model.log?.truncated).toBe(true);

    model.active = true;
    await model.poll();
    expect(model.log).toEqual(
      expect.objectContaining({
        attempt: 2,
        text: 'attempt 2\n',
        truncated: false
      })
    );
    model.dispose();
  });

  it('cancels, and re-runs with new values, opening the new job', async () => {
    const running = sampleDetail({ status: 'running' });
    const rerun = sampleDetail({ id: 'aaaa11112222', status: 'queued' });
    const { settings, requests } = fakeServer(
      { body: { ...running, cancel_requested: true } },
      { status: 201, body: rerun },
      listing(rerun, running),
      { body: rerun },
      { body: sampleLog({ job_id: rerun.id, complete: true }) },
      { body: sampleInspect() }
    );
    const model = new JobsModel({ serverSettings: settings });

    expect(await model.cancel(running.id)).toBe(true);
    expect(requests[0].method).toBe('POST');
    expect(where(requests[0]).path).toBe('jobs/4f0c2a9e81d3/cancel');

    const created = await model.rerun(running.id, { epochs: 40 });
    expect(created?.id).toBe('aaaa11112222');
    expect(await requests[1].json()).toEqual({ parameters: { epochs: 40 } });
    expect(model.selected?.id).toBe('aaaa11112222');
    model.dispose();
  });

  it('explains a refused cancel', async () => {
    const { settings } = fakeServer({
      status: 409,
      body: { error: 'conflict', message: 'job 4f0c2a9e81d3 already ended' }
    });
    const model = new JobsModel({ serverSettings: settings });
    expect(await model.cancel('4f0c2a9e81d3')).toBe(false);
    expect(model.error).toBe('job 4f0c2a9e81d3 already ended');
    model.dispose();
  });
});

describe('JobsModel notifications', () => {
  it('tells once about each of my jobs that ends after it started watching', async () => {
    const old = sampleJob({ id: 'old000000000', status: 'failed' });
    const queued = sampleJob({
      id: 'new000000000',
      status: 'queued',
      updated_at: '2026-11-23T11:00:00Z'
    });
    const ended = {
      ...queued,
      status: 'succeeded' as const,
      updated_at: '2026-11-23T11:00:05Z'
    };
    const quick = sampleJob({
      id: 'quick0000000',
      status: 'failed',
      updated_at: '2026-11-23T11:00:06Z'
    });
    const trial = sampleJob({
      id: 'trial0000000',
      status: 'succeeded',
      trigger: 'sweep',
      updated_at: '2026-11-23T11:00:06Z'
    });
    const { settings, requests } = fakeServer(
      listing(old, queued), // first round: what already was
      listing(ended, quick, trial), // the queued one ended; a new one failed; a trial: quiet
      listing(ended) // the same change again: no second notice
    );
    const model = new JobsModel({ serverSettings: settings });
    const told: string[] = [];
    model.ended.connect((_, job) => told.push(`${job.id} ${job.status}`));

    await model.poll();
    expect(told).toEqual([]);
    expect(where(requests[0]).query).toBe('?mine=true&limit=100');

    await model.poll();
    expect(told).toEqual(['new000000000 succeeded', 'quick0000000 failed']);
    expect(where(requests[1]).query).toBe(
      '?mine=true&updated_since=2026-11-23T11%3A00%3A00Z&limit=100'
    );

    await model.poll();
    expect(told).toHaveLength(2);
    expect(where(requests[2]).query).toContain(
      'updated_since=2026-11-23T11%3A00%3A06Z'
    );
    model.dispose();
  });

  it('polls on a timer once started, and stops when disposed', async () => {
    jest.useFakeTimers();
    try {
      const { settings, requests } = fakeServer(listing(), listing());
      const model = new JobsModel({ serverSettings: settings, pollMs: 1000 });
      model.start();
      await jest.advanceTimersByTimeAsync(1000);
      expect(requests).toHaveLength(2);
      model.dispose();
      await jest.advanceTimersByTimeAsync(5000);
      expect(requests).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
