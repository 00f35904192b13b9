import type { TranslationBundle } from '@jupyterlab/translation';

import type { SweepsModel } from './model';
import type { ISweep } from './types';

/**
 * What the panel asks the rest of the lab to do.
 */
export interface ISweepActions {
  /** The person using the lab: only a sweep's owner sees its actions. */
  user: string | null;
  /** Open a trial's MLflow run (the Experiments panel), by run id. */
  openRun: ((runId: string) => void) | null;
  /** Open a trial's job: its output notebook. */
  openJob: (jobId: string, name: string) => void;
  /** Ask how many more trials; `null`: cancelled. */
  askTrials: () => Promise<number | null>;
  /** The Share dialog of a sweep. */
  share: (sweep: ISweep) => Promise<void>;
  /** Ask whether to delete the sweep; `false`: cancelled. */
  confirmDelete: (sweep: ISweep) => Promise<boolean>;
  /** Tell of the job "Re-run best as job" started, with a way to show it. */
  rerunStarted: (jobId: string, name: string) => void;
}

/**
 * Props of the panel's views.
 */
export interface ISweepsViewProps {
  model: SweepsModel;
  actions: ISweepActions;
  trans: TranslationBundle;
}
