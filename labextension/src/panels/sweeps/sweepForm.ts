import type { TranslationBundle } from '@jupyterlab/translation';

import type { ISubmittable } from '../../common/formDialog';
import { RequestModel } from '../../requestModel';
import type { JobsClient } from '../../common/jobs/client';
import type { SweepsClient } from './client';
import { buildSpace, ISpaceRow, proposeRow } from './space';
import type {
  Direction,
  ISweepDetail,
  ISweepRequest,
  Pruner,
  Sampler
} from './types';

/**
 * The settings of the Sweep dialog besides the space, as typed.
 */
export interface ISweepSettings {
  metric: string;
  direction: Direction;
  sampler: Sampler;
  pruner: Pruner;
  trials: string;
  parallel: string;
  profile: string;
  /** The sweep's cost cap in the platform's currency; '' for none. */
  maxCost: string;
}

/**
 * The state of the Sweep dialog: the rows proposed from the notebook's
 * `parameters` cell (`load()`), the settings, and the sweep sent to the
 * platform, whose refusal (a 400 naming the field) stays in `error`.
 */
export class SweepForm
  extends RequestModel
  implements ISubmittable<ISweepDetail>
{
  constructor(options: SweepForm.IOptions) {
    super();
    this._options = options;
    this._settings = { ...this._settings, profile: options.profile ?? '' };
  }

  get rows(): ReadonlyArray<ISpaceRow> {
    return this._rows;
  }

  get settings(): Readonly<ISweepSettings> {
    return this._settings;
  }

  /**
   * What is wrong with each row, by parameter name (`''`: the space).
   */
  get rowErrors(): Readonly<Record<string, string>> {
    return this._rowErrors;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get canSubmit(): boolean {
    return !this.busy && this._loaded && this._settings.metric.trim() !== '';
  }

  /**
   * Read the notebook's parameters and propose a row for each.
   */
  async load(): Promise<void> {
    const { jobs, path, trans } = this._options;
    await this.run(async () => {
      const info = await jobs.inspect(path);
      this._rows = info.parameters.map(proposeRow);
      this._loaded = true;
      if (!info.has_parameters_cell || info.parameters.length === 0) {
        throw new Error(
          trans.__(
            'This notebook has no parameters to search: tag a cell “parameters” and assign them there.'
          )
        );
      }
    });
  }

  setRow(name: string, change: Partial<ISpaceRow>): void {
    this._rows = this._rows.map(r =>
      r.name === name ? { ...r, ...change } : r
    );
    delete this._rowErrors[name];
    this.emitChanged();
  }

  set<K extends keyof ISweepSettings>(key: K, value: ISweepSettings[K]): void {
    this._settings = { ...this._settings, [key]: value };
    this.emitChanged();
  }

  /**
   * The request the form makes, or `null` with the problems shown.
   */
  request(): ISweepRequest | null {
    const { trans, path } = this._options;
    const { space, errors } = buildSpace(this._rows, trans);
    this._rowErrors = errors;
    const s = this._settings;
    const trials = Number(s.trials);
    const parallel = Number(s.parallel);
    let problem: string | null = null;
    if (Object.keys(errors).length > 0) {
      problem = errors[''] ?? trans.__('Fix the parameters marked in red.');
    } else if (!Number.isInteger(trials) || trials < 1) {
      problem = trans.__('Trials must be a whole number of at least 1.');
    } else if (!Number.isInteger(parallel) || parallel < 1) {
      problem = trans.__('Parallel must be a whole number of at least 1.');
    } else if (s.maxCost.trim() !== '' && !(Number(s.maxCost) > 0)) {
      problem = trans.__('The cost cap must be an amount above 0, or empty.');
    }
    this.setError(problem);
    this.emitChanged();
    if (problem !== null) {
      return null;
    }
    const request: ISweepRequest = {
      path,
      space,
      metric: s.metric.trim(),
      direction: s.direction,
      sampler: s.sampler,
      pruner: s.pruner,
      trials,
      parallel
    };
    if (s.profile.trim()) {
      request.profile = s.profile.trim();
    }
    if (s.maxCost.trim() !== '') {
      request.max_cost_usd = Number(s.maxCost);
    }
    return request;
  }

  async submit(): Promise<ISweepDetail | null> {
    const request = this.canSubmit ? this.request() : null;
    if (request === null) {
      return null;
    }
    let sweep: ISweepDetail | null = null;
    await this.run(async () => {
      sweep = await this._options.client.create(request);
    });
    return sweep;
  }

  private _loaded = false;
  private _options: SweepForm.IOptions;
  private _rowErrors: Record<string, string> = {};
  private _rows: ISpaceRow[] = [];
  private _settings: ISweepSettings = {
    metric: '',
    direction: 'minimize',
    sampler: 'tpe',
    pruner: 'none',
    trials: '20',
    parallel: '2',
    profile: '',
    maxCost: ''
  };
}

/**
 * A namespace for SweepForm statics.
 */
export namespace SweepForm {
  export interface IOptions {
    client: SweepsClient;
    jobs: JobsClient;
    /** The notebook's path in this workspace. */
    path: string;
    /** The profile proposed (the workspace's own). */
    profile?: string | null;
    trans: TranslationBundle;
  }
}
