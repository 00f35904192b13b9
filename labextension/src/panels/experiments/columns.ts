import { COST_METRIC } from '../../common/cost';
import {
  IRun,
  IRunKeys,
  metricNumber,
  runName
} from '../../common/experiments/types';

/**
 * What a column of the runs table shows: a run attribute, or one
 * parameter, metric or tag.
 */
export type ColumnKind = 'attribute' | 'metric' | 'param' | 'tag';

/**
 * A column of the runs table.
 */
export interface IColumn {
  kind: ColumnKind;
  /** The attribute's name or the parameter's, metric's or tag's key. */
  key: string;
}

/**
 * The attributes every runs table shows first.
 */
export const ATTRIBUTE_COLUMNS: IColumn[] = [
  { kind: 'attribute', key: 'run_name' },
  { kind: 'attribute', key: 'status' },
  { kind: 'attribute', key: 'start_time' }
];

/**
 * The Cost column: the `labworks.cost_usd` metric the platform logs on a
 * job's run when it ends, shown as money under its own header.
 */
export const COST_COLUMN: IColumn = { kind: 'metric', key: COST_METRIC };

/**
 * Whether a column is the Cost column.
 */
export function isCostColumn(column: IColumn): boolean {
  return column.kind === 'metric' && column.key === COST_METRIC;
}

/**
 * MLflow's name of a kind in search expressions.
 */
const PREFIX: Record<ColumnKind, string> = {
  attribute: 'attributes',
  metric: 'metrics',
  param: 'params',
  tag: 'tags'
};

/**
 * The id of a column, unique in a table (`metric:acc`).
 */
export function columnId(column: IColumn): string {
  return `${column.kind}:${column.key}`;
}

/**
 * The column an id names, or `null`.
 */
export function parseColumnId(id: string): IColumn | null {
  const match = /^(attribute|metric|param|tag):(.+)$/.exec(id);
  return match ? { kind: match[1] as ColumnKind, key: match[2] } : null;
}

/**
 * A key as MLflow's search syntax takes it: in backticks unless it is a
 * plain identifier.
 */
export function quoteKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
    ? key
    : `\`${key.replace(/`/g, '')}\``;
}

/**
 * The column in MLflow's search syntax (`metrics.\`val loss\``).
 */
export function searchName(column: IColumn): string {
  return `${PREFIX[column.kind]}.${quoteKey(column.key)}`;
}

/**
 * MLflow's `order_by` for a column.
 */
export function orderBy(column: IColumn, descending: boolean): string {
  return `${searchName(column)} ${descending ? 'DESC' : 'ASC'}`;
}

/**
 * A string literal of MLflow's search syntax.
 */
export function quoteValue(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const COMPARATOR = /^\s*(<=|>=|!=|=|<|>)\s*(.*)$/;

/**
 * A column filter as a clause of MLflow's search syntax, or `null` when it
 * is empty.
 *
 * Metrics take a comparison (`> 0.9`, `<= 3`; a bare number means `=`).
 * Parameters, tags and text attributes take a comparison with text
 * (`= adam`, `!= 0.1`) or, bare, a part of the value (case-insensitive).
 */
export function filterClause(column: IColumn, text: string): string | null {
  const value = text.trim();
  if (!value || column.key === 'start_time') {
    return null;
  }
  const name = searchName(column);
  const compared = COMPARATOR.exec(value);
  if (column.kind === 'metric') {
    const [op, number] = compared ? [compared[1], compared[2]] : ['=', value];
    return `${name} ${op} ${number.trim()}`;
  }
  if (compared && ['=', '!='].includes(compared[1])) {
    return `${name} ${compared[1]} ${quoteValue(compared[2].trim())}`;
  }
  return `${name} ILIKE ${quoteValue(`%${value}%`)}`;
}

/**
 * The search box's filter and the columns' filters joined with `and`.
 */
export function combinedFilter(
  search: string,
  columnFilters: Record<string, string>
): string {
  const clauses = search.trim() ? [search.trim()] : [];
  for (const [id, text] of Object.entries(columnFilters)) {
    const column = parseColumnId(id);
    const clause = column ? filterClause(column, text) : null;
    if (clause) {
      clauses.push(clause);
    }
  }
  return clauses.join(' and ');
}

/**
 * A run's parameters, metrics and tags by key.
 */
interface IRunIndex {
  metric: Map<string, number>;
  param: Map<string, string>;
  tag: Map<string, string>;
}

const INDEXES = new WeakMap<IRun, IRunIndex>();

function runIndex(run: IRun): IRunIndex {
  let index = INDEXES.get(run);
  if (index === undefined) {
    index = {
      metric: new Map(
        (run.data.metrics ?? []).map(m => [m.key, metricNumber(m.value)])
      ),
      param: new Map((run.data.params ?? []).map(p => [p.key, p.value])),
      tag: new Map((run.data.tags ?? []).map(t => [t.key, t.value]))
    };
    INDEXES.set(run, index);
  }
  return index;
}

/**
 * A run's value in a column: a number for metrics (latest value), text for
 * the rest; `undefined` when the run has none.
 */
export function cellValue(
  run: IRun,
  column: IColumn
): string | number | undefined {
  if (column.kind !== 'attribute') {
    return runIndex(run)[column.kind].get(column.key);
  }
  if (column.key === 'run_name') {
    return runName(run);
  }
  return (run.info as unknown as Record<string, string | number | undefined>)[
    column.key
  ];
}

/**
 * A number as the table shows it: at most 4 significant digits after the
 * point, integers as they are.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

/**
 * The keys of parameters, metrics and tags the runs have, each sorted.
 */
export interface IKnownKeys {
  metric: string[];
  param: string[];
  tag: string[];
}

/**
 * The parameter, metric and tag keys of columns, as a runs table page asks
 * for them (attributes are always there).
 */
export function columnKeys(columns: IColumn[]): IRunKeys {
  const keys: IRunKeys = { metrics: [], params: [], tags: [] };
  for (const column of columns) {
    if (column.kind !== 'attribute') {
      keys[KIND_KEYS[column.kind]].push(column.key);
    }
  }
  return keys;
}

/**
 * The field of `IRunKeys` for each kind of key.
 */
const KIND_KEYS: Record<keyof IKnownKeys, keyof IRunKeys> = {
  metric: 'metrics',
  param: 'params',
  tag: 'tags'
};

/**
 * Keys seen in the pages of runs so far (each page says which keys its runs
 * have), kept sorted as pages arrive.
 */
export class KeyIndex {
  /**
   * Add a page's keys; returns whether a new key was seen.
   */
  add(keys: IRunKeys): boolean {
    let added = false;
    for (const kind of ['metric', 'param', 'tag'] as const) {
      const seen = this._seen[kind];
      const before = seen.size;
      for (const key of keys[KIND_KEYS[kind]]) {
        seen.add(key);
      }
      added = added || seen.size !== before;
    }
    if (added) {
      this._sorted = null;
    }
    return added;
  }

  get keys(): IKnownKeys {
    if (this._sorted === null) {
      this._sorted = {
        metric: [...this._seen.metric].sort(),
        param: [...this._seen.param].sort(),
        tag: [...this._seen.tag].sort()
      };
    }
    return this._sorted;
  }

  clear(): void {
    this._seen = { metric: new Set(), param: new Set(), tag: new Set() };
    this._sorted = null;
  }

  private _seen = {
    metric: new Set<string>(),
    param: new Set<string>(),
    tag: new Set<string>()
  };
  private _sorted: IKnownKeys | null = null;
}
