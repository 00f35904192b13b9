import {
  cellValue,
  columnId,
  columnKeys,
  combinedFilter,
  filterClause,
  formatNumber,
  KeyIndex,
  orderBy,
  parseColumnId,
  quoteKey
} from '../columns';
import { jobIdOf } from '../../../common/experiments/types';
import { sampleRun } from './sample';

describe('columns', () => {
  it('quotes keys that are not plain identifiers', () => {
    expect(quoteKey('acc')).toBe('acc');
    expect(quoteKey('val loss')).toBe('`val loss`');
    expect(quoteKey('train/acc')).toBe('`train/acc`');
    expect(orderBy({ kind: 'metric', key: 'val loss' }, true)).toBe(
      'metrics.`val loss` DESC'
    );
    expect(orderBy({ kind: 'attribute', key: 'start_time' }, false)).toBe(
      'attributes.start_time ASC'
    );
  });

  it('turns a column filter into a clause of MLflow search syntax', () => {
    const acc = { kind: 'metric' as const, key: 'acc' };
    expect(filterClause(acc, '> 0.9')).toBe('metrics.acc > 0.9');
    expect(filterClause(acc, '<=3')).toBe('metrics.acc <= 3');
    expect(filterClause(acc, '0.5')).toBe('metrics.acc = 0.5');
    const lr = { kind: 'param' as const, key: 'lr' };
    expect(filterClause(lr, '0.01')).toBe("params.lr ILIKE '%0.01%'");
    expect(filterClause(lr, '= 0.01')).toBe("params.lr = '0.01'");
    expect(filterClause(lr, "!= it's")).toBe("params.lr != 'it\\'s'");
    const name = { kind: 'attribute' as const, key: 'run_name' };
    expect(filterClause(name, 'base')).toBe(
      "attributes.run_name ILIKE '%base%'"
    );
    expect(filterClause(lr, '   ')).toBeNull();
    expect(
      filterClause({ kind: 'attribute', key: 'start_time' }, '> 1')
    ).toBeNull();
  });

  it('joins the search box and the column filters with and', () => {
    expect(
      combinedFilter(" tags.team = 'a' ", {
        'metric:acc': '> 0.9',
        'param:lr': '',
        'tag:stage': '= prod'
      })
    ).toBe("tags.team = 'a' and metrics.acc > 0.9 and tags.stage = 'prod'");
    expect(combinedFilter('', {})).toBe('');
  });

  it('names columns by kind and key', () => {
    const column = { kind: 'tag' as const, key: 'mlflow.user' };
    expect(parseColumnId(columnId(column))).toEqual(column);
    expect(parseColumnId('nonsense')).toBeNull();
  });

  it('reads a run’s values', () => {
    const run = sampleRun('r1', {
      name: 'base',
      params: { lr: '0.1' },
      metrics: { acc: 0.9, bad: 'NaN' },
      tags: { team: 'vision' }
    });
    expect(cellValue(run, { kind: 'metric', key: 'acc' })).toBe(0.9);
    expect(cellValue(run, { kind: 'metric', key: 'bad' })).toBeNaN();
    expect(cellValue(run, { kind: 'metric', key: 'none' })).toBeUndefined();
    expect(cellValue(run, { kind: 'param', key: 'lr' })).toBe('0.1');
    expect(cellValue(run, { kind: 'tag', key: 'team' })).toBe('vision');
    expect(cellValue(run, { kind: 'attribute', key: 'run_name' })).toBe('base');
    expect(cellValue(run, { kind: 'attribute', key: 'status' })).toBe(
      'FINISHED'
    );
  });

  it('formats numbers short', () => {
    expect(formatNumber(3)).toBe('3');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(0.00001234)).toBe('1.234e-5');
    expect(formatNumber(12345678.9)).toBe('1.235e+7');
    expect(formatNumber(Infinity)).toBe('Infinity');
  });

  it('keeps the keys seen, sorted, and says when one is new', () => {
    const index = new KeyIndex();
    expect(index.add({ metrics: ['b', 'a'], params: ['p'], tags: [] })).toBe(
      true
    );
    expect(index.add({ metrics: ['a'], params: [], tags: [] })).toBe(false);
    expect(index.add({ metrics: [], params: [], tags: ['t'] })).toBe(true);
    expect(index.keys).toEqual({
      metric: ['a', 'b'],
      param: ['p'],
      tag: ['t']
    });
    index.clear();
    expect(index.keys.metric).toEqual([]);
  });

  it('asks a page for the keys of the visible columns', () => {
    expect(
      columnKeys([
        { kind: 'attribute', key: 'status' },
        { kind: 'metric', key: 'val acc' },
        { kind: 'param', key: 'lr' },
        { kind: 'metric', key: 'loss' },
        { kind: 'tag', key: 'team' }
      ])
    ).toEqual({ metrics: ['val acc', 'loss'], params: ['lr'], tags: ['team'] });
  });

  it('finds the job that made a run by its lineage tag', () => {
    expect(jobIdOf(sampleRun('a', { tags: { 'labworks.job.id': 'j1' } }))).toBe(
      'j1'
    );
    expect(jobIdOf(sampleRun('b', { tags: { 'labworks.job_id': 'j2' } }))).toBe(
      'j2'
    );
    expect(jobIdOf(sampleRun('c'))).toBeUndefined();
  });
});
