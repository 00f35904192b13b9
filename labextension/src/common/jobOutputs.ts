/**
 * Where a job's output notebook opens: the jobs' read-only drive, shared by
 * the Jobs panel (which serves the drive) and the panels that link to a job.
 */

/**
 * The name of the read-only drive holding jobs' output notebooks.
 */
export const JOBS_DRIVE = 'LabworksJobs';

/**
 * What names a job's output notebook.
 */
export interface IJobRef {
  id: string;
  /** The notebook's name, e.g. `train.ipynb`. */
  name: string;
}

/**
 * The path of a job's output notebook, `LabworksJobs:<id>/<stem> (job <id>).ipynb`:
 * its tab says which job it is.
 */
export function outputPath(job: IJobRef): string {
  const stem = job.name.replace(/\.ipynb$/, '').replace(/\//g, '_');
  return `${JOBS_DRIVE}:${job.id}/${stem} (job ${job.id}).ipynb`;
}

/**
 * The job id and file name an output path names, or `null`.
 */
export function parseOutputPath(localPath: string): IJobRef | null {
  const match = /^\/?([0-9a-f]+)\/([^/]+\.ipynb)$/.exec(localPath);
  return match ? { id: match[1], name: match[2] } : null;
}
