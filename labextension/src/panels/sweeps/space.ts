import type { TranslationBundle } from '@jupyterlab/translation';

import type { IParameterInfo, ParameterType } from '../../common/jobs/types';
import type { Dimension, DimensionType } from './types';

/**
 * The search space as the Sweep dialog edits it: one row per parameter of
 * the notebook's `parameters` cell, its numbers as typed.
 */
export interface ISpaceRow {
  name: string;
  /** The parameter's type in the cell: choices are read as this type. */
  paramType: ParameterType;
  /** Whether the sweep searches this parameter (else it keeps its default). */
  search: boolean;
  type: DimensionType;
  low: string;
  high: string;
  /** Empty: continuous (a float) or 1 (an int). */
  step: string;
  /** Comma-separated choices of a categorical parameter. */
  choices: string;
}

/**
 * The row proposed for a parameter, from its default: a positive float
 * spans a decade each side on a log scale (0.01 → 0.001..0.1), another
 * float ±1 around it, an int from half to twice it (3 → 1..6), a bool
 * both values, a string just its default. A list, dict or non-literal
 * default is not searched unless the person writes choices.
 */
export function proposeRow(param: IParameterInfo): ISpaceRow {
  const row: ISpaceRow = {
    name: param.name,
    paramType: param.type,
    search: true,
    type: 'categorical',
    low: '',
    high: '',
    step: '',
    choices: ''
  };
  const value = param.default;
  if (param.type === 'float' && typeof value === 'number') {
    if (value > 0) {
      return {
        ...row,
        type: 'log-float',
        low: num(value / 10),
        high: num(value * 10)
      };
    }
    return { ...row, type: 'float', low: num(value - 1), high: num(value + 1) };
  }
  if (param.type === 'int' && typeof value === 'number') {
    const low = value > 0 ? Math.max(1, Math.floor(value / 2)) : value;
    const high = value > 0 ? value * 2 : value + 10;
    return { ...row, type: 'int', low: num(low), high: num(high) };
  }
  if (param.type === 'bool') {
    return { ...row, choices: 'true, false' };
  }
  if (param.type === 'str' && typeof value === 'string') {
    return { ...row, choices: value };
  }
  return { ...row, search: false, choices: param.default_text };
}

/**
 * The space a set of rows makes, or the problems found, by parameter name
 * (the dialog shows each beside its row).
 */
export function buildSpace(
  rows: ReadonlyArray<ISpaceRow>,
  trans: TranslationBundle
): { space: Record<string, Dimension>; errors: Record<string, string> } {
  const space: Record<string, Dimension> = {};
  const errors: Record<string, string> = {};
  for (const row of rows.filter(r => r.search)) {
    const result = dimension(row, trans);
    if (typeof result === 'string') {
      errors[row.name] = result;
    } else {
      space[row.name] = result;
    }
  }
  if (
    rows.length > 0 &&
    Object.keys(space).length === 0 &&
    !Object.keys(errors).length
  ) {
    errors[''] = trans.__('Search at least one parameter.');
  }
  return { space, errors };
}

/**
 * One row's dimension, or what is wrong with it.
 */
function dimension(
  row: ISpaceRow,
  trans: TranslationBundle
): Dimension | string {
  if (row.type === 'categorical') {
    const choices = row.choices
      .split(',')
      .map(c => c.trim())
      .filter(c => c !== '')
      .map(c => choice(c, row.paramType));
    if (choices.length === 0) {
      return trans.__('Give at least one choice, separated by commas.');
    }
    const bad = choices.findIndex(c => c === undefined);
    if (bad >= 0) {
      return trans.__('The choices must be values of type %1.', row.paramType);
    }
    return { type: 'categorical', choices };
  }
  const low = Number(row.low);
  const high = Number(row.high);
  if (
    row.low.trim() === '' ||
    row.high.trim() === '' ||
    isNaN(low) ||
    isNaN(high)
  ) {
    return trans.__('Give a low and a high number.');
  }
  if (!(low < high)) {
    return trans.__('Low must be below high.');
  }
  if (
    row.type === 'int' &&
    !(Number.isInteger(low) && Number.isInteger(high))
  ) {
    return trans.__('An int parameter needs whole bounds.');
  }
  if (row.type === 'log-float' && low <= 0) {
    return trans.__('A log-float parameter needs a low above 0.');
  }
  if (row.step.trim() === '') {
    return { type: row.type, low, high };
  }
  const step = Number(row.step);
  if (isNaN(step) || step <= 0 || row.type === 'log-float') {
    return row.type === 'log-float'
      ? trans.__('A log-float parameter takes no step.')
      : trans.__('The step must be a number above 0.');
  }
  return { type: row.type, low, high, step };
}

/**
 * A typed choice as the parameter's type reads it; `undefined` if it cannot.
 */
function choice(text: string, type: ParameterType): unknown {
  switch (type) {
    case 'str':
      return text;
    case 'bool':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'int':
    case 'float': {
      const value = Number(text);
      if (isNaN(value) || (type === 'int' && !Number.isInteger(value))) {
        return undefined;
      }
      return value;
    }
    default:
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
  }
}

/**
 * A bound as the dialog shows it: no float noise (0.1 * 10 is 1, not
 * 1.0000000000000002).
 */
function num(value: number): string {
  return String(Number(value.toPrecision(12)));
}
