import { ReadOnlyDrive } from '../../readOnlyDrive';
import type { JobsClient } from './client';
import type { IJob } from './types';

/**
 * The name of the read-only drive holding jobs' output notebooks.
 */
export const JOBS_DRIVE = 'LabworksJobs';

/**
 * The path of a job's output notebook, `LabworksJobs:<id>/<stem> (job <id>).ipynb`:
 * its tab says which job it is.
 */
export function outputPath(job: Pick<IJob, 'id' | 'name'>): string {
  const stem = job.name.replace(/\.ipynb$/, '').replace(/\//g, '_');
  return `${JOBS_DRIVE}:${job.id}/${stem} (job ${job.id}).ipynb`;
}

/**
 * The job id and file name an output path names, or `null`.
 */
export function parseOutputPath(
  localPath: string
): { id: string; name: string } | null {
  const match = /^\/?([0-9a-f]+)\/([^/]+\.ipynb)$/.exec(localPath);
  return match ? { id: match[1], name: match[2] } : null;
}

/**
 * A read-only drive serving jobs' output notebooks (while a job runs, its
 * latest save), so JupyterLab opens them in its own notebook view.
 */
export class JobOutputDrive extends ReadOnlyDrive {
  constructor(client: JobsClient, readOnlyMessage: string) {
    super({
      name: JOBS_DRIVE,
      serverSettings: client.serverSettings,
      readOnlyMessage,
      load: async (localPath, withContent) => {
        const where = parseOutputPath(localPath);
        if (where === null) {
          throw new Error(`No job output at ${localPath}`);
        }
        const output = await client.output(where.id);
        return ReadOnlyDrive.notebookModel({
          name: where.name,
          localPath,
          content: output.content,
          withContent,
          modified: new Date().toISOString()
        });
      }
    });
  }
}
