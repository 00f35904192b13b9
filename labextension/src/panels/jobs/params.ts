import type { TranslationBundle } from '@jupyterlab/translation';

import type { IParameterInfo, ParameterType } from '../../common/jobs/types';

/**
 * Parameter values typed in a form, checked against the types the notebook's
 * `parameters` cell declares, the way the platform checks them
 * (hub/labworks_hub/service/jobs/parameters.py), so a mistake shows at once
 * next to the field instead of as a refused submit.
 */

/**
 * A value read from a field, or why it cannot be read.
 */
export type Parsed =
  { ok: true; value: unknown } | { ok: false; error: string };

const TRUE = ['true', 'yes', 'on', '1'];
const FALSE = ['false', 'no', 'off', '0'];

/**
 * The text a field starts with for a value (the default, or a job's value).
 */
export function textOf(type: ParameterType, value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (type === 'str' && typeof value === 'string') {
    return value;
  }
  if (type === 'bool') {
    return value ? 'true' : 'false';
  }
  return JSON.stringify(value);
}

/**
 * What a type wants, in words (for messages and placeholders).
 */
export function describeType(
  type: ParameterType,
  trans: TranslationBundle
): string {
  switch (type) {
    case 'int':
      return trans.__('an integer');
    case 'float':
      return trans.__('a number');
    case 'bool':
      return trans.__('true or false');
    case 'str':
      return trans.__('text');
    case 'list':
      return trans.__('a JSON list');
    case 'dict':
      return trans.__('a JSON object');
    default:
      return trans.__('any value (JSON, or text)');
  }
}

/**
 * Read `text` as a value of `type`.
 *
 * An empty field of type `any` (or of a non-literal default) reads as
 * "keep the default": `{ ok: true, value: undefined }`.
 */
export function parseValue(
  type: ParameterType,
  text: string,
  trans: TranslationBundle
): Parsed {
  const trimmed = text.trim();
  const refuse = (): Parsed => ({
    ok: false,
    error: trans.__(
      'must be %1 (%2), not %3',
      describeType(type, trans),
      type,
      trimmed ? JSON.stringify(trimmed) : trans.__('empty')
    )
  });
  switch (type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(trimmed)) {
        return refuse();
      }
      const value = Number(trimmed);
      return Number.isSafeInteger(value)
        ? { ok: true, value }
        : {
            ok: false,
            error: trans.__('is too large for a JSON integer: %1', trimmed)
          };
    }
    case 'float': {
      const value = Number(trimmed);
      return trimmed && Number.isFinite(value) ? { ok: true, value } : refuse();
    }
    case 'bool': {
      const lower = trimmed.toLowerCase();
      if (TRUE.includes(lower) || FALSE.includes(lower)) {
        return { ok: true, value: TRUE.includes(lower) };
      }
      return refuse();
    }
    case 'str':
      return { ok: true, value: text };
    case 'list':
    case 'dict': {
      const value = Private.json(trimmed);
      const fits =
        type === 'list'
          ? Array.isArray(value)
          : value !== null &&
            typeof value === 'object' &&
            !Array.isArray(value);
      return value !== Private.INVALID && fits
        ? { ok: true, value }
        : {
            ok: false,
            error: trans.__(
              'must be %1 (%2), written as JSON, e.g. %3',
              describeType(type, trans),
              type,
              type === 'list' ? '[1, 2]' : '{"a": 1}'
            )
          };
    }
    default: {
      if (!trimmed) {
        return { ok: true, value: undefined };
      }
      const value = Private.json(trimmed);
      return { ok: true, value: value === Private.INVALID ? text : value };
    }
  }
}

/**
 * The values to send and the errors to show, by parameter name.
 */
export interface ICollected {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

/**
 * Check every field; values equal to their default are left out (papermill
 * keeps the cell's own), unless `all` is set.
 */
export function collectValues(
  infos: IParameterInfo[],
  texts: Record<string, string>,
  trans: TranslationBundle,
  all = false
): ICollected {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const info of infos) {
    const text = texts[info.name] ?? textOf(info.type, info.default);
    const parsed = parseValue(info.type, text, trans);
    if (!parsed.ok) {
      errors[info.name] = parsed.error;
      continue;
    }
    if (parsed.value === undefined) {
      continue;
    }
    if (all || !sameValue(info.type, parsed.value, info.default)) {
      values[info.name] = parsed.value;
    }
  }
  return { values, errors };
}

/**
 * Parameter infos for values whose declaration is unknown (a job with no
 * output notebook yet): the type of each value, no default.
 */
export function infosOf(values: Record<string, unknown>): IParameterInfo[] {
  return Object.entries(values).map(([name, value]) => ({
    name,
    type: Private.typeOf(value),
    default: null,
    default_text: '',
    help: ''
  }));
}

/**
 * Whether a parsed value is its default (a float 1 and 1.0 are the same).
 */
export function sameValue(
  type: ParameterType,
  value: unknown,
  fallback: unknown
): boolean {
  if (fallback === null || fallback === undefined) {
    return false; // a non-literal default: any value given replaces it
  }
  if (type === 'float' || type === 'int') {
    return Number(value) === Number(fallback);
  }
  return JSON.stringify(value) === JSON.stringify(fallback);
}

namespace Private {
  export const INVALID = Symbol('invalid JSON');

  export function json(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return INVALID;
    }
  }

  export function typeOf(value: unknown): ParameterType {
    if (typeof value === 'boolean') {
      return 'bool';
    }
    if (typeof value === 'number') {
      return Number.isInteger(value) ? 'int' : 'float';
    }
    if (typeof value === 'string') {
      return 'str';
    }
    if (Array.isArray(value)) {
      return 'list';
    }
    if (value !== null && typeof value === 'object') {
      return 'dict';
    }
    return 'any';
  }
}
