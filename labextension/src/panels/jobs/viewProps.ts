import type { TranslationBundle } from '@jupyterlab/translation';

import type { IJobModelRun } from '../../common/experiments/jobRuns';
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
  /**
   * The newest MLflow run of a job that logged a model, with its models
   * (absent: "Register and serve" is not offered).
   */
  findModelRun?(job: IJob): Promise<IJobModelRun | null>;
  /**
   * Show the Models panel (absent: the lab has none).
   */
  openModels?(): void;
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
