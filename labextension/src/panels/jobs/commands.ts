import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IWorkspaceFactsProvider } from '../../tokens';
import { showDiff } from '../../common/nbdime';
import { browserTimeZone } from '../../common/format';
import { statusLabel } from '../../common/jobs/labels';
import { fetchPrices } from '../../common/cost';
import { listProfiles, saveIfOpen } from '../../common/jobs/launch';
import { editScheduleDialog } from './EditScheduleDialog';
import type { JobsModel } from './model';
import { IKernelChoice, runJobDialog } from './RunJobDialog';
import type { RunJobResult } from './runJob';
import type { SchedulesModel } from './schedules';
import type { IJob, ISchedule } from '../../common/jobs/types';

/**
 * What the jobs plugin does when asked: run a notebook as a job, edit a
 * schedule, show a diff, tell about an ended job. Loaded when first needed.
 */

/**
 * What running a notebook as a job needs from the application.
 */
export interface IRunAsJobContext {
  app: JupyterFrontEnd;
  model: JobsModel;
  /** The workspace facts: the profile and groups the dialog proposes. */
  workspace: IWorkspaceFactsProvider;
  trans: TranslationBundle;
}

/**
 * Save the notebook, then show the "Run as job" dialog for it.
 *
 * Resolves what was created, or `null` (cancelled, or refused with the
 * reason shown).
 */
export async function runAsJob(
  ctx: IRunAsJobContext,
  path: string
): Promise<RunJobResult | null> {
  const { app, model, workspace, trans } = ctx;
  if (path.includes(':')) {
    await showErrorMessage(
      trans.__('Run as job'),
      trans.__(
        'Only notebooks of this workspace can run as jobs; copy this one into it first.'
      )
    );
    return null;
  }
  try {
    await saveIfOpen(app, path);
  } catch (reason) {
    await showErrorMessage(trans.__('Run as job'), reason as Error);
    return null;
  }
  // Without the facts the dialog proposes no profile and no group; without
  // the profiles it asks for the profile's name.
  const [facts, profiles, prices] = await Promise.all([
    workspace.facts().catch(() => null),
    listProfiles(model.client),
    fetchPrices(model.client.serverSettings)
  ]);
  const specs = app.serviceManager.kernelspecs.specs?.kernelspecs ?? {};
  const kernels: IKernelChoice[] = Object.values(specs)
    .filter(spec => spec !== undefined)
    .map(spec => ({ name: spec!.name, display_name: spec!.display_name }));
  return runJobDialog({
    client: model.client,
    path,
    trans,
    profile: facts?.profile.name ?? null,
    profiles,
    timezone: browserTimeZone(),
    kernels,
    groups: facts?.groups ?? [],
    prices
  });
}

/**
 * Show the "Edit schedule" dialog; a changed schedule is put in the list.
 *
 * Resolves the changed schedule, or `null` when the person cancelled.
 */
export async function editSchedule(
  schedules: SchedulesModel,
  schedule: ISchedule,
  trans: TranslationBundle
): Promise<ISchedule | null> {
  const client = schedules.client;
  const changed = await editScheduleDialog({
    client,
    schedule,
    trans,
    profiles: await listProfiles(client)
  });
  if (changed !== null) {
    schedules.put(changed);
  }
  return changed;
}

/**
 * Show nbdime's diff of a job's source and output in `tab`, a browser tab
 * opened at the click (a popup opened after an await would be blocked); a
 * new one when there is none.
 */
export function openJobDiff(
  model: JobsModel,
  job: IJob,
  tab: Window | null
): Promise<boolean> {
  return showDiff(model.serverSettings, tab, model.diffFiles(job.id));
}

/**
 * Tell the owner a job ended, with a button to open its output.
 */
export function notifyEnded(
  job: IJob,
  trans: TranslationBundle,
  openOutput: (job: IJob) => void,
  showJob: (job: IJob) => void
): string {
  const message = job.reason
    ? trans.__(
        'Job %1 %2: %3',
        job.name,
        statusLabel(job.status, trans),
        job.reason
      )
    : trans.__('Job %1 %2', job.name, statusLabel(job.status, trans));
  const actions = [
    {
      label: trans.__('Show job'),
      caption: trans.__('Open the job in the Jobs panel'),
      callback: () => showJob(job)
    }
  ];
  if (job.has_output) {
    actions.unshift({
      label: trans.__('Open output'),
      caption: trans.__('Open the output notebook read-only'),
      callback: () => openOutput(job)
    });
  }
  const type =
    job.status === 'succeeded'
      ? 'success'
      : job.status === 'cancelled'
        ? 'info'
        : 'error';
  return Notification.emit(message, type, { autoClose: false, actions });
}
