import type { TranslationBundle } from '@jupyterlab/translation';

import { describeError, RequestModel } from '../../requestModel';
import type { JobsClient } from '../../common/jobs/client';
import { collectValues, ICollected, parseValue, textOf } from './params';
import type {
  IJobProfile,
  IParameterInfo,
  IPreview
} from '../../common/jobs/types';

/**
 * The state the "Run as job" and "Edit schedule" forms share: the base of
 * both dialogs' models (`JobFormState`), the typed parameter values, the
 * preview of a cron schedule, the profile to propose.
 */

/**
 * How long the schedule preview waits for typing to pause, in ms.
 */
export const PREVIEW_DELAY_MS = 300;

/**
 * The notebook's parameters as typed in a form: each checked as it is typed.
 */
export class ParameterForm {
  constructor(trans: TranslationBundle) {
    this._trans = trans;
  }

  get infos(): IParameterInfo[] {
    return this._infos;
  }

  /**
   * The typed text of each parameter.
   */
  get texts(): Record<string, string> {
    return this._texts;
  }

  get errors(): Record<string, string> {
    return this._errors;
  }

  /**
   * Start over with these parameters; a field shows `values[name]` when
   * given, else the default.
   */
  reset(infos: IParameterInfo[], values: Record<string, unknown> = {}): void {
    this._infos = infos;
    const texts: Record<string, string> = {};
    for (const p of infos) {
      texts[p.name] = textOf(
        p.type,
        p.name in values ? values[p.name] : p.default
      );
    }
    this._texts = texts;
    this._errors = {};
  }

  /**
   * Type a parameter's value; it is checked at once.
   */
  set(name: string, text: string): void {
    this._texts = { ...this._texts, [name]: text };
    const info = this._infos.find(p => p.name === name);
    const errors = { ...this._errors };
    delete errors[name];
    if (info) {
      const parsed = parseValue(info.type, text, this._trans);
      if (!parsed.ok) {
        errors[name] = parsed.error;
      }
    }
    this._errors = errors;
  }

  /**
   * Check every field: the values that differ from their defaults, and the
   * errors (which are shown).
   */
  collect(): ICollected {
    const collected = collectValues(this._infos, this._texts, this._trans);
    this._errors = collected.errors;
    return collected;
  }

  private _errors: Record<string, string> = {};
  private _infos: IParameterInfo[] = [];
  private _texts: Record<string, string> = {};
  private _trans: TranslationBundle;
}

/**
 * The next three firing times of a cron expression in a time zone, asked of
 * the platform once typing pauses; the answer to an older question never
 * replaces a newer one.
 */
export class SchedulePreview {
  constructor(client: JobsClient, onChange: () => void) {
    this._client = client;
    this._onChange = onChange;
  }

  get preview(): IPreview | null {
    return this._preview;
  }

  /**
   * Why the expression or the time zone was refused.
   */
  get error(): string | null {
    return this._error;
  }

  /**
   * Ask for the preview of `cron` in `timezone` once typing pauses; `null`
   * drops the preview.
   */
  schedule(when: { cron: string; timezone: string } | null): void {
    this._clearTimer();
    this._when = when;
    if (when === null) {
      this._asked++;
      this._preview = null;
      this._error = null;
      return;
    }
    this._timer = setTimeout(() => void this.refresh(), PREVIEW_DELAY_MS);
  }

  /**
   * Ask for the preview now.
   */
  async refresh(): Promise<void> {
    this._clearTimer();
    const when = this._when;
    if (when === null || this._disposed) {
      return;
    }
    const asked = ++this._asked;
    try {
      const preview = await this._client.preview(
        when.cron.trim(),
        when.timezone.trim()
      );
      if (asked === this._asked) {
        this._preview = preview;
        this._error = null;
      }
    } catch (reason) {
      if (asked === this._asked) {
        this._preview = null;
        this._error = describeError(reason);
      }
    }
    if (!this._disposed) {
      this._onChange();
    }
  }

  dispose(): void {
    this._disposed = true;
    this._clearTimer();
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _asked = 0;
  private _client: JobsClient;
  private _disposed = false;
  private _error: string | null = null;
  private _onChange: () => void;
  private _preview: IPreview | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _when: { cron: string; timezone: string } | null = null;
}

/**
 * The profile a form proposes: `wanted` (this workspace's, or the schedule's)
 * when jobs can run on it, else the platform's default, else the first one
 * available; `wanted` as it is when the profiles are unknown.
 */
export function proposeProfile(
  profiles: IJobProfile[] | null,
  wanted: string | null | undefined
): string {
  if (profiles === null) {
    return wanted ?? '';
  }
  const usable = profiles.filter(p => p.available);
  const found =
    usable.find(p => p.name === wanted) ??
    usable.find(p => p.default) ??
    usable[0];
  return found?.name ?? '';
}

/**
 * The fields every job form has: when a schedule runs.
 */
export interface IScheduleFields {
  cron: string;
  timezone: string;
}

/**
 * The model of a job form: its typed values `V`, the notebook's parameters,
 * the schedule preview, each error next to the field `F` it is about, and a
 * submit that checks everything first and sends once at a time (result `R`).
 * `error` is why the last submit was refused. Subclasses say when the form
 * may be sent, check their own fields and send.
 */
export abstract class JobFormState<
  V extends IScheduleFields,
  F extends string,
  R
> extends RequestModel {
  constructor(client: JobsClient, trans: TranslationBundle, values: V) {
    super();
    this._client = client;
    this._trans = trans;
    this._values = values;
    this._parameters = new ParameterForm(trans);
    this._preview = new SchedulePreview(client, () => this.emitChanged());
  }

  get values(): V {
    return this._values;
  }

  get parameters(): ParameterForm {
    return this._parameters;
  }

  get fieldErrors(): Partial<Record<F, string>> {
    return this._fieldErrors;
  }

  get preview(): IPreview | null {
    return this._preview.preview;
  }

  get previewError(): string | null {
    return this._preview.error;
  }

  /**
   * Whether the form may be submitted now.
   */
  abstract get canSubmit(): boolean;

  /**
   * Type a parameter's value; it is checked at once.
   */
  setParameter(name: string, text: string): void {
    this._parameters.set(name, text);
    this.setError(null);
    this.emitChanged();
  }

  /**
   * Check every field, then send the form. Resolves what the platform
   * answered, or `null` with the errors shown.
   */
  async submit(): Promise<R | null> {
    if (!this.canSubmit) {
      return null;
    }
    const collected = this._parameters.collect();
    this._fieldErrors = this._checkFields();
    if (
      Object.keys(collected.errors).length > 0 ||
      Object.keys(this._fieldErrors).length > 0
    ) {
      this.setError(this._trans.__('Correct the fields marked in red first.'));
      this.emitChanged();
      return null;
    }
    let result: R | null = null;
    this.setError(null); // the last refusal goes while the form is sent
    await this.run(async () => {
      result = await this._send(collected.values);
    });
    return result;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._preview.dispose();
    super.dispose();
  }

  /**
   * The errors of the form's own fields (not the parameters).
   */
  protected abstract _checkFields(): Partial<Record<F, string>>;

  /**
   * Send the checked form with these parameter values.
   */
  protected abstract _send(parameters: Record<string, unknown>): Promise<R>;

  /**
   * The errors of the schedule's cron expression and time zone.
   */
  protected _scheduleErrors(): Partial<Record<'cron' | 'timezone', string>> {
    const { cron, timezone } = this._values;
    const errors: Partial<Record<'cron' | 'timezone', string>> = {};
    if (!cron.trim()) {
      errors.cron = this._trans.__(
        'a cron expression: minute hour day month weekday, e.g. 0 6 * * 1-5'
      );
    } else if (this._preview.error) {
      errors.cron = this._preview.error;
    }
    if (!timezone.trim()) {
      errors.timezone = this._trans.__('an IANA time zone, e.g. Europe/Berlin');
    }
    return errors;
  }

  protected _client: JobsClient;
  protected _fieldErrors: Partial<Record<F, string>> = {};
  protected _parameters: ParameterForm;
  protected _preview: SchedulePreview;
  protected _trans: TranslationBundle;
  protected _values: V;
}
