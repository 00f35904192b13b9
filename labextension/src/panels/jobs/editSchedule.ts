import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { describeError } from '../../requestModel';
import type { JobsClient } from './client';
import { ParameterForm, proposeProfile, SchedulePreview } from './formState';
import { infosOf } from './params';
import type {
  IJobProfile,
  IPreview,
  ISchedule,
  IScheduleUpdate
} from './types';

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
export class EditScheduleState implements IDisposable {
  constructor(options: EditScheduleState.IOptions) {
    const { schedule } = options;
    this._client = options.client;
    this._trans = options.trans;
    this.schedule = schedule;
    this.profiles = options.profiles ?? null;
    this._parameters = new ParameterForm(options.trans);
    this._preview = new SchedulePreview(options.client, () => this._emit());
    this._values = {
      cron: schedule.cron,
      timezone: schedule.timezone,
      profile: this.profiles?.some(p => p.name === schedule.profile)
        ? schedule.profile
        : proposeProfile(this.profiles, schedule.profile)
    };
  }

  /**
   * The schedule as it was when the dialog opened.
   */
  readonly schedule: ISchedule;

  /**
   * The profiles jobs can run on, or `null` when they could not be listed.
   */
  readonly profiles: IJobProfile[] | null;

  get values(): IEditScheduleValues {
    return this._values;
  }

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

  get parameters(): ParameterForm {
    return this._parameters;
  }

  get fieldErrors(): Partial<Record<'cron' | 'timezone', string>> {
    return this._fieldErrors;
  }

  /**
   * The platform's refusal of the last submit.
   */
  get submitError(): string | null {
    return this._submitError;
  }

  get preview(): IPreview | null {
    return this._preview.preview;
  }

  get previewError(): string | null {
    return this._preview.error;
  }

  get busy(): boolean {
    return this._busy;
  }

  get canSubmit(): boolean {
    return this._loaded && !this._busy;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
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
    this._emit();
    await preview;
  }

  set<K extends keyof IEditScheduleValues>(
    key: K,
    value: IEditScheduleValues[K]
  ): void {
    this._values = { ...this._values, [key]: value };
    this._submitError = null;
    if (key === 'cron' || key === 'timezone') {
      const errors = { ...this._fieldErrors };
      delete errors[key as 'cron' | 'timezone'];
      this._fieldErrors = errors;
      this._preview.schedule(this._values);
    }
    this._emit();
  }

  setParameter(name: string, text: string): void {
    this._parameters.set(name, text);
    this._submitError = null;
    this._emit();
  }

  /**
   * Ask for the next three firing times now.
   */
  async refreshPreview(): Promise<void> {
    this._preview.schedule(this._values);
    await this._preview.refresh();
  }

  /**
   * Check the fields, then change the schedule. Resolves the changed
   * schedule, or `null` with the errors shown.
   */
  async submit(): Promise<ISchedule | null> {
    if (!this.canSubmit) {
      return null;
    }
    const collected = this._parameters.collect();
    this._fieldErrors = this._checkFields();
    if (
      Object.keys(collected.errors).length > 0 ||
      Object.keys(this._fieldErrors).length > 0
    ) {
      this._submitError = this._trans.__(
        'Correct the fields marked in red first.'
      );
      this._emit();
      return null;
    }
    const v = this._values;
    const update: IScheduleUpdate = {
      cron: v.cron.trim(),
      timezone: v.timezone.trim()
    };
    if (this._parameters.infos.length > 0) {
      update.parameters = collected.values;
    }
    const profile = v.profile.trim();
    if (profile && profile !== this.schedule.profile) {
      update.profile = profile; // unchanged, it is not checked again
    }
    this._busy = true;
    this._submitError = null;
    this._emit();
    let result: ISchedule | null = null;
    try {
      result = await this._client.updateSchedule(this.schedule.id, update);
    } catch (reason) {
      this._submitError = describeError(reason);
    }
    this._busy = false;
    this._emit();
    return result;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._preview.dispose();
    Signal.clearData(this);
  }

  private _checkFields(): Partial<Record<'cron' | 'timezone', string>> {
    const trans = this._trans;
    const v = this._values;
    const errors: Partial<Record<'cron' | 'timezone', string>> = {};
    if (!v.cron.trim()) {
      errors.cron = trans.__(
        'a cron expression: minute hour day month weekday, e.g. 0 6 * * 1-5'
      );
    } else if (this._preview.error) {
      errors.cron = this._preview.error;
    }
    if (!v.timezone.trim()) {
      errors.timezone = trans.__('an IANA time zone, e.g. Europe/Berlin');
    }
    return errors;
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _busy = false;
  private _changed = new Signal<this, void>(this);
  private _client: JobsClient;
  private _fieldErrors: Partial<Record<'cron' | 'timezone', string>> = {};
  private _isDisposed = false;
  private _loaded = false;
  private _parameters: ParameterForm;
  private _parametersNote: string | null = null;
  private _preview: SchedulePreview;
  private _submitError: string | null = null;
  private _trans: TranslationBundle;
  private _values: IEditScheduleValues;
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
