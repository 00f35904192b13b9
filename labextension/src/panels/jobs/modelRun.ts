import { useEffect, useState } from 'react';

import type { IJobModelRun } from '../../common/experiments/jobRuns';
import type { IJob } from '../../common/jobs/types';
import type { IJobsActions } from './viewProps';

/**
 * The newest run of a succeeded job that logged a model, once found;
 * `null` while looking, for a job that did not succeed or logged none, and
 * where the lab does not look (no `findModelRun` action).
 */
export function useModelRun(
  job: IJob,
  actions: IJobsActions
): IJobModelRun | null {
  const [found, setFound] = useState<IJobModelRun | null>(null);
  const succeeded = job.status === 'succeeded';
  useEffect(() => {
    setFound(null);
    if (!succeeded || !actions.findModelRun) {
      return;
    }
    let live = true;
    actions.findModelRun(job).then(
      run => {
        if (live) {
          setFound(run);
        }
      },
      reason => {
        // No button then: the job page still shows everything else.
        console.warn(`labworks: the runs of job ${job.id}:`, reason);
      }
    );
    return () => {
      live = false;
    };
  }, [job.id, succeeded]);
  return found;
}
