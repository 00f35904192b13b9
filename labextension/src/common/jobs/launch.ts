import type { JupyterFrontEnd } from '@jupyterlab/application';

import { notebookContext } from '../notebook';
import type { JobsClient } from './client';
import type { IJobProfile } from './types';

/**
 * What launching a notebook as a job (or a sweep of jobs) needs first: the
 * notebook saved, the profiles to propose. Shared by the jobs and sweeps
 * panels.
 */

/**
 * Save the notebook at `path` if it is open with unsaved changes: the job
 * runs the file as it is on disk.
 */
export async function saveIfOpen(
  app: JupyterFrontEnd,
  path: string
): Promise<void> {
  for (const widget of app.shell.widgets('main')) {
    const context = notebookContext(widget);
    if (context?.path === path && context.model.dirty) {
      await context.save();
    }
  }
}

/**
 * The profiles jobs can run on, or `null` when they cannot be listed.
 */
export async function listProfiles(
  client: JobsClient
): Promise<IJobProfile[] | null> {
  try {
    return (await client.profiles()).profiles;
  } catch {
    return null;
  }
}
