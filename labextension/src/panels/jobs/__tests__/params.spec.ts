import { nullTranslator } from '@jupyterlab/translation';

import {
  collectValues,
  infosOf,
  parseValue,
  sameValue,
  textOf
} from '../params';
import { sampleInspect } from './sample';

const trans = nullTranslator.load('labworks');

describe('parseValue', () => {
  it.each([
    ['int', ' 20 ', 20],
    ['int', '-3', -3],
    ['float', '0.5', 0.5],
    ['float', '2', 2],
    ['float', '1e-3', 0.001],
    ['bool', 'Yes', true],
    ['bool', 'off', false],
    ['str', ' keep spaces ', ' keep spaces '],
    ['str', '', ''],
    ['list', '[1, "a"]', [1, 'a']],
    ['dict', '{"a": {"b": 1}}', { a: { b: 1 } }],
    ['any', '[1]', [1]],
    ['any', 'plain words', 'plain words']
  ] as const)('reads %s from %j', (type, text, value) => {
    expect(parseValue(type, text, trans)).toEqual({ ok: true, value });
  });

  it.each([
    ['int', 'ten', 'must be an integer (int), not "ten"'],
    ['int', '1.5', 'must be an integer (int), not "1.5"'],
    ['int', '', 'must be an integer (int), not empty'],
    ['float', 'abc', 'must be a number (float), not "abc"'],
    ['float', '', 'must be a number (float), not empty'],
    ['bool', 'maybe', 'must be true or false (bool), not "maybe"'],
    [
      'list',
      '{"a": 1}',
      'must be a JSON list (list), written as JSON, e.g. [1, 2]'
    ],
    [
      'dict',
      '[1]',
      'must be a JSON object (dict), written as JSON, e.g. {"a": 1}'
    ],
    ['list', '[1,', 'must be a JSON list (list), written as JSON, e.g. [1, 2]']
  ] as const)('refuses %s %j with a message', (type, text, error) => {
    expect(parseValue(type, text, trans)).toEqual({ ok: false, error });
  });

  it('refuses an integer JSON cannot carry exactly', () => {
    const parsed = parseValue('int', '12345678901234567890', trans);
    expect(parsed.ok).toBe(false);
  });

  it('reads an empty untyped field as "keep the default"', () => {
    expect(parseValue('any', '  ', trans)).toEqual({
      ok: true,
      value: undefined
    });
  });
});

describe('collectValues', () => {
  const infos = sampleInspect().parameters;
  const texts = (overrides: Record<string, string> = {}) => {
    const start: Record<string, string> = {};
    for (const info of infos) {
      start[info.name] = textOf(info.type, info.default);
    }
    return { ...start, ...overrides };
  };

  it('starts every field at its default and sends nothing unchanged', () => {
    expect(texts()).toEqual({
      epochs: '10',
      rate: '0.01',
      dataset: 'train',
      layers: '[64,32]',
      verbose: 'false'
    });
    expect(collectValues(infos, texts(), trans)).toEqual({
      values: {},
      errors: {}
    });
  });

  it('sends the edited values, typed', () => {
    const collected = collectValues(
      infos,
      texts({ epochs: '40', rate: '0.010', layers: '[128]', verbose: 'true' }),
      trans
    );
    expect(collected).toEqual({
      values: { epochs: 40, layers: [128], verbose: true },
      errors: {}
    });
  });

  it('names every wrong field and sends nothing for them', () => {
    const collected = collectValues(
      infos,
      texts({ epochs: 'many', layers: '64' }),
      trans
    );
    expect(collected.errors).toEqual({
      epochs: 'must be an integer (int), not "many"',
      layers: 'must be a JSON list (list), written as JSON, e.g. [1, 2]'
    });
    expect(collected.values).toEqual({});
  });

  it('sends every value when asked (a re-run replaces them all)', () => {
    const collected = collectValues(infos, texts(), trans, true);
    expect(Object.keys(collected.values)).toEqual([
      'epochs',
      'rate',
      'dataset',
      'layers',
      'verbose'
    ]);
  });
});

describe('infosOf and sameValue', () => {
  it('types values whose declaration is unknown, without defaults', () => {
    expect(
      infosOf({ a: 1, b: 0.5, c: 'x', d: true, e: [1], f: {}, g: null }).map(
        i => [i.name, i.type, i.default]
      )
    ).toEqual([
      ['a', 'int', null],
      ['b', 'float', null],
      ['c', 'str', null],
      ['d', 'bool', null],
      ['e', 'list', null],
      ['f', 'dict', null],
      ['g', 'any', null]
    ]);
  });

  it('compares numbers by value and a non-literal default never matches', () => {
    expect(sameValue('float', 1, 1.0)).toBe(true);
    expect(sameValue('list', [1, 2], [1, 2])).toBe(true);
    expect(sameValue('list', [2, 1], [1, 2])).toBe(false);
    expect(sameValue('any', 4, null)).toBe(false);
  });
});
