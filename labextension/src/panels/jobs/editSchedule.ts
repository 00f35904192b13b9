import type { TranslationBundle } from '@jupyterlab/translation';

import { describeError } from '../../requestModel';
import type { JobsClient } from '../../common/jobs/client';
import { JobFormState, proposeProfile } from './formState';
import { infosOf } from './params';
import type {
  IJobProfile,
  ISchedule,
  IScheduleUpdate
} from '../../common/jobs/types';

/**
 * The fields of the "Edit schedule" dialog, as typed.
 */
export interface IEditScheduleValues {
  cron: string;
  timezone: string;
  profile: string;
}

/**
 * The state of the "Edit schedule" dialog: when the schedule runs (with the
 * preview of its next runs), its parameters typed as the notebook declares
 * them, its profile, and every error next to the field it is about.
 */
export class EditScheduleState extends JobFormState<
  IEditScheduleValues,
  'cron' | 'timezone',
  ISchedule
> {
  constructor(options: EditScheduleState.IOptions) {
    const { schedule } = options;
    const profiles = options.profiles ?? null;
    super(options.client, options.trans, {
      cron: schedule.cron,
      timezone: schedule.timezone,
      profile: profiles?.some(p => p.name === schedule.profile)
        ? schedule.profile
        : proposeProfile(profiles, schedule.profile)
    });
    this.schedule = schedule;
    this.profiles = profiles;
  }

  /**
   * The schedule as it was when the dialog opened.
   */
  readonly schedule: ISchedule;

  /**
   * The profiles jobs can run on, or `null` when they could not be listed.
   */
  readonly profiles: IJobProfile[] | null;

  /**
   * Whether the parameters were read.
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Why the notebook's declarations could not be read (the schedule's own
   * values can still be changed), or `null`.
   */
  get parametersNote(): string | null {
    return this._parametersNote;
  }

  get canSubmit(): boolean {
    return this._loaded && !this.busy;
  }

  /**
   * Read the parameters the schedule's notebook declares, and preview the
   * next runs as the schedule is now.
   */
  async load(): Promise<void> {
    const values = this.schedule.parameters;
    const preview = this.refreshPreview();
    try {
      const info = await this._client.scheduleParameters(this.schedule.id);
      if (info.inspectable) {
        this._parameters.reset(info.parameters, values);
      } else {
        this._parameters.reset(infosOf(values), values);
        this._parametersNote = this._trans.__(
          'papermill cannot list the parameters of a %1 notebook; only the values the schedule was given can be changed.',
          info.language
        );
      }
    } catch (reason) {
      this._parameters.reset(infosOf(values), values);
      this._parametersNote = this._trans.__(
        'The notebook’s parameters could not be read (%1); only the values the schedule was given can be changed.',
        describeError(reason)
      );
    }
    this._loaded = true;
    this.emitChanged();
    await preview;
  }

  set<K extends keyof IEditScheduleValues>(
    key: K,
    value: IEditScheduleValues[K]
  ): void {
    this._values = { ...this._values, [key]: value };
    this.setError(null);
    if (key === 'cron' || key === 'timezone') {
      const errors = { ...this._fieldErrors };
      delete errors[key as 'cron' | 'timezone'];
      this._fieldErrors = errors;
      this._preview.schedule(this._values);
    }
    this.emitChanged();
  }

  /**
   * Ask for the next three firing times now.
   */
  async refreshPreview(): Promise<void> {
    this._preview.schedule(this._values);
    await this._preview.refresh();
  }

  /**
   * Change the schedule: its parameters only when the notebook declares
   * some, its profile only when another one was chosen.
   */
  protected _send(parameters: Record<string, unknown>): Promise<ISchedule> {
    const v = this._values;
    const update: IScheduleUpdate = {
      cron: v.cron.trim(),
      timezone: v.timezone.trim()
    };
    if (this._parameters.infos.length > 0) {
      update.parameters = parameters;
    }
    const profile = v.profile.trim();
    if (profile && profile !== this.schedule.profile) {
      update.profile = profile; // unchanged, it is not checked again
    }
    return this._client.updateSchedule(this.schedule.id, update);
  }

  protected _checkFields(): Partial<Record<'cron' | 'timezone', string>> {
    return this._scheduleErrors();
  }

  private _loaded = false;
  private _parametersNote: string | null = null;
}

/**
 * A namespace for EditScheduleState statics.
 */
export namespace EditScheduleState {
  export interface IOptions {
    client: JobsClient;
    schedule: ISchedule;
    trans: TranslationBundle;
    /** The profiles jobs run on; `null` or absent: not known. */
    profiles?: IJobProfile[] | null;
  }
}
