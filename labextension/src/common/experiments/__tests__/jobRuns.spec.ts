import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../client';
import { JobsClient } from '../../jobs/client';
import { jobModelRun } from '../jobRuns';
import { RegistryClient } from '../registry';
import { sampleRun } from './sample';

function where(request: Request): string {
  return new URL(request.url).pathname.replace(/.*\/labworks\//, '');
}

describe('jobModelRun', () => {
  it('is the newest run of the job that logged a model', async () => {
    const jobs = fakeServer({ body: { job_id: 'j1', runs: ['r2', 'r1'] } });
    const experiments = fakeServer(
      { body: { run: sampleRun('r2') } },
      { body: { files: [{ path: 'notes.txt', file_size: 3 }] } }, // r2: no model
      { body: { run: sampleRun('r1') } },
      { body: { files: [] } } // r1: only a logged model
    );
    const registry = fakeServer(
      { body: {} },
      { body: { models: [{ info: { model_id: 'm-1', name: 'model' } }] } }
    );
    const found = await jobModelRun(
      new JobsClient(jobs.settings),
      new ExperimentsClient(experiments.settings),
      new RegistryClient(registry.settings),
      'j1'
    );
    expect(found?.run.info.run_id).toBe('r1');
    expect(found?.choices.map(c => c.key)).toEqual(['model:m-1']);
    expect(jobs.requests.map(where)).toEqual(['jobs/j1/runs']);
    expect(experiments.requests.map(where)[0]).toBe(
      'mlflow/api/2.0/mlflow/runs/get'
    );
  });

  it('is null when no run of the job logged one', async () => {
    const jobs = fakeServer({ body: { job_id: 'j1', runs: ['r1'] } });
    const experiments = fakeServer(
      { body: { run: sampleRun('r1') } },
      { body: { files: [] } }
    );
    const registry = fakeServer({ body: {} });
    expect(
      await jobModelRun(
        new JobsClient(jobs.settings),
        new ExperimentsClient(experiments.settings),
        new RegistryClient(registry.settings),
        'j1'
      )
    ).toBeNull();
  });
});
