import type { TranslationBundle } from '@jupyterlab/translation';

import type { JobsModel } from './model';
import type { NotificationsModel } from './notifications';
import type { SchedulesModel } from './schedules';
import type { IJob, ISchedule } from '../../common/jobs/types';

/**
 * What the Jobs panel asks the application to do.
 */
export interface IJobsActions {
  /**
   * Open the job's output notebook read-only.
   */
  openOutput(job: IJob): void;
  /**
   * Show nbdime's diff of the job's source and output (in a new browser tab).
   */
  diff(job: IJob): void;
  /**
   * Run the current notebook as a job (absent when none is open).
   */
  run?(): void;
  /**
   * Change a schedule of the user's (absent: schedules cannot be edited).
   */
  editSchedule?(schedule: ISchedule): void;
}

/**
 * Props of the Jobs view.
 */
export interface IJobsViewProps {
  model: JobsModel;
  schedules: SchedulesModel;
  notifications: NotificationsModel;
  actions: IJobsActions;
  user: string | null;
  trans: TranslationBundle;
}
