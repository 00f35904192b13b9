import { JOBS_DRIVE, parseOutputPath } from '../../common/jobOutputs';
import { ReadOnlyDrive } from '../../readOnlyDrive';
import type { JobsClient } from '../../common/jobs/client';

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
