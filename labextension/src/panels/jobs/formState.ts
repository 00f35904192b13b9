import type { TranslationBundle } from '@jupyterlab/translation';

import { describeError } from '../../requestModel';
import type { JobsClient } from './client';
import { collectValues, ICollected, parseValue, textOf } from './params';
import type { IJobProfile, IParameterInfo, IPreview } from './types';

/**
 * The pieces of state the "Run as job" and "Edit schedule" forms share: the
 * typed parameter values, the preview of a cron schedule, the profile to
 * propose.
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
