import type { JobsClient } from '../jobs/client';
import type { ExperimentsClient } from './client';
import { IModelChoice, runModels } from './registerModel';
import type { RegistryClient } from './registry';
import type { IRun } from './types';

/**
 * The most runs of one job whose models are looked for.
 */
export const MAX_JOB_RUNS = 5;

/**
 * A run a job made, with the models it logged.
 */
export interface IJobModelRun {
  run: IRun;
  choices: IModelChoice[];
}

/**
 * The newest run of a job that logged a model, with its models; `null`
 * when none did. The platform names the job's runs the person may read
 * (`GET /labworks/jobs/<id>/runs`, newest first); they are read one by one
 * until one has a model.
 */
export async function jobModelRun(
  jobs: JobsClient,
  experiments: ExperimentsClient,
  registry: RegistryClient,
  jobId: string
): Promise<IJobModelRun | null> {
  const { runs } = await jobs.runs(jobId);
  for (const runId of runs.slice(0, MAX_JOB_RUNS)) {
    const run = await experiments.getRun(runId);
    const choices = await runModels(registry, experiments, run);
    if (choices.length > 0) {
      return { run, choices };
    }
  }
  return null;
}
