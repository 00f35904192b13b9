import type { TranslationBundle } from '@jupyterlab/translation';

import { describeError } from '../../requestModel';
import type { JobsClient } from '../../common/jobs/client';
import { JobFormState, proposeProfile } from './formState';
import type {
  IInspectResult,
  IJobDetail,
  IJobProfile,
  IJobRequest,
  ISchedule
} from '../../common/jobs/types';

/**
 * The longest timeout a job may have, in minutes (the platform's 7 days).
 */
export const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

/**
 * The fields of the "Run as job" dialog, as typed.
 */
export interface IRunJobValues {
  name: string;
  profile: string;
  /** Empty: the notebook's own kernel. */
  kernel: string;
  /** Empty: the platform's default. */
  timeoutMinutes: string;
  retries: string;
  /** Empty: not shared. */
  group: string;
  scheduled: boolean;
  cron: string;
  timezone: string;
}

/**
 * A field of the dialog that can be wrong.
 */
export type FieldName =
  'name' | 'timeoutMinutes' | 'retries' | 'cron' | 'timezone';

/**
 * What the dialog created.
 */
export type RunJobResult =
  { kind: 'job'; job: IJobDetail } | { kind: 'schedule'; schedule: ISchedule };

/**
 * The state of the "Run as job" dialog for one notebook: the fields, the
 * notebook's parameters with their typed values, the schedule preview, and
 * every error next to the field it is about.
 */
export class RunJobState extends JobFormState<
  IRunJobValues,
  FieldName,
  RunJobResult
> {
  constructor(options: RunJobState.IOptions) {
    const profiles = options.profiles ?? null;
    super(options.client, options.trans, {
      name: options.path.split('/').pop() ?? options.path,
      profile: proposeProfile(profiles, options.profile),
      kernel: '',
      timeoutMinutes: '',
      retries: '0',
      group: '',
      scheduled: false,
      cron: '0 6 * * 1-5',
      timezone: options.timezone ?? 'UTC'
    });
    this.path = options.path;
    this.profiles = profiles;
  }

  /**
   * The notebook's path in this workspace.
   */
  readonly path: string;

  /**
   * The profiles jobs can run on, or `null` when they could not be listed
   * (the profile is then typed).
   */
  readonly profiles: IJobProfile[] | null;

  /**
   * The notebook's parameters, once inspected.
   */
  get info(): IInspectResult | null {
    return this._info;
  }

  /**
   * Why the notebook could not be inspected (it cannot be submitted then).
   */
  get loadError(): string | null {
    return this._loadError;
  }

  /**
   * Whether the form may be submitted: the notebook was read and nothing is
   * under way.
   */
  get canSubmit(): boolean {
    return !this.busy && this._info !== null && this._loadError === null;
  }

  /**
   * Read the notebook's parameters cell (through the server).
   */
  async load(): Promise<void> {
    try {
      const info = await this._client.inspect(this.path);
      this._info = info;
      this._parameters.reset(info.inspectable ? info.parameters : []);
      this._loadError = null;
    } catch (reason) {
      this._loadError = describeError(reason);
    }
    this.emitChanged();
  }

  set<K extends keyof IRunJobValues>(key: K, value: IRunJobValues[K]): void {
    this._values = { ...this._values, [key]: value };
    this.setError(null);
    if (key in this._fieldErrors) {
      this._fieldErrors = this._checkFields();
    }
    if (key === 'scheduled' || key === 'cron' || key === 'timezone') {
      const { scheduled, cron, timezone } = this._values;
      this._preview.schedule(scheduled ? { cron, timezone } : null);
    }
    this.emitChanged();
  }

  /**
   * Ask for the next three firing times of the schedule now.
   */
  async refreshPreview(): Promise<void> {
    await this._preview.refresh();
  }

  /**
   * Run the job, or create the schedule.
   */
  protected async _send(
    parameters: Record<string, unknown>
  ): Promise<RunJobResult> {
    const request = this._request(parameters);
    const { scheduled, cron, timezone } = this._values;
    return scheduled
      ? {
          kind: 'schedule',
          schedule: await this._client.createSchedule({
            ...request,
            cron: cron.trim(),
            timezone: timezone.trim()
          })
        }
      : { kind: 'job', job: await this._client.submit(request) };
  }

  private _request(parameters: Record<string, unknown>): IJobRequest {
    const v = this._values;
    const request: IJobRequest = {
      path: this.path,
      name: v.name.trim(),
      parameters,
      retries: Number(v.retries.trim() || '0')
    };
    if (v.profile.trim()) {
      request.profile = v.profile.trim();
    }
    if (v.kernel) {
      request.kernel_name = v.kernel;
    }
    if (v.timeoutMinutes.trim()) {
      request.timeout = Math.round(Number(v.timeoutMinutes) * 60);
    }
    if (v.group) {
      request.share_with_group = v.group;
    }
    return request;
  }

  protected _checkFields(): Partial<Record<FieldName, string>> {
    const trans = this._trans;
    const v = this._values;
    const errors: Partial<Record<FieldName, string>> = v.scheduled
      ? this._scheduleErrors()
      : {};
    if (v.name.trim().length > 255) {
      errors.name = trans.__('at most 255 characters');
    }
    const minutes = v.timeoutMinutes.trim();
    if (minutes) {
      const value = Number(minutes);
      if (
        !Number.isFinite(value) ||
        value * 60 < 1 ||
        value > MAX_TIMEOUT_MINUTES
      ) {
        errors.timeoutMinutes = trans.__(
          'minutes, more than 0 and at most %1 (7 days); empty: the platform’s default',
          MAX_TIMEOUT_MINUTES
        );
      }
    }
    const retries = v.retries.trim();
    if (!/^\d+$/.test(retries) || Number(retries) > 10) {
      errors.retries = trans.__('a whole number from 0 to 10');
    }
    return errors;
  }

  private _info: IInspectResult | null = null;
  private _loadError: string | null = null;
}

/**
 * A namespace for RunJobState statics.
 */
export namespace RunJobState {
  /**
   * Options to create the dialog's state.
   */
  export interface IOptions {
    client: JobsClient;
    /** The notebook's path in this workspace. */
    path: string;
    trans: TranslationBundle;
    /** The profile to propose (this workspace's). */
    profile?: string | null;
    /** The profiles jobs run on; `null` or absent: not known. */
    profiles?: IJobProfile[] | null;
    /** The time zone to propose (the browser's). */
    timezone?: string;
  }
}
