import type { TranslationBundle } from '@jupyterlab/translation';

import type { ModelsModel } from './model';
import type { IDeployment, IModel } from './types';

/**
 * What the panel asks the rest of the lab to do.
 */
export interface IModelsActions {
  /** The person using the lab: only a deployment's owner sees its actions. */
  user: string | null;
  /** The "Serve" dialog of a model's version; the panel then shows it. */
  serve: (model: IModel, version: string) => Promise<void>;
  /** Copy text (the endpoint's URL) to the clipboard. */
  copy: (text: string) => void;
  /** The Share dialog of a deployment. */
  share: (deployment: IDeployment) => Promise<void>;
  /** Show a tracked run (a version's lineage) in the Experiments panel. */
  openRun: (runId: string) => void;
  /** Ask whether to take the deployment down; `false`: cancelled. */
  confirmUndeploy: (deployment: IDeployment) => Promise<boolean>;
}

/**
 * Props of the panel's views.
 */
export interface IModelsViewProps {
  model: ModelsModel;
  actions: IModelsActions;
  trans: TranslationBundle;
}
