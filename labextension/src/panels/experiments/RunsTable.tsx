import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useLayoutEffect, useRef, useState } from 'react';

import { formatCost } from '../../common/cost';
import { formatLocalTime } from '../../common/format';
import {
  ATTRIBUTE_COLUMNS,
  cellValue,
  columnId,
  formatNumber,
  IColumn,
  isCostColumn,
  searchName
} from './columns';
import type { RunsModel } from './runs';
import type { IRun } from '../../common/experiments/types';

/**
 * The height of a row of the runs table, in pixels (rows are drawn only
 * where they are seen, so every row has this height).
 */
export const ROW_HEIGHT = 28;

/**
 * Rows drawn above and below those seen, so a fast scroll shows no gap.
 */
export const OVERSCAN = 10;

/**
 * The next page is asked for when the last row seen is this close to the
 * end of the listed runs.
 */
export const PREFETCH_ROWS = 15;

/**
 * How long a column filter waits for typing to pause, in ms.
 */
export const FILTER_DELAY_MS = 500;

const WIDTHS = {
  select: 32,
  run_name: 200,
  status: 90,
  start_time: 170,
  other: 120
};

function width(column: IColumn): number {
  return column.kind === 'attribute'
    ? ((WIDTHS as Record<string, number>)[column.key] ?? WIDTHS.other)
    : WIDTHS.other;
}

/**
 * Props of the runs table.
 */
export interface IRunsTableProps {
  model: RunsModel;
  trans: TranslationBundle;
  openRun(run: IRun): void;
}

/**
 * The runs of an experiment as a table: a checkbox, the run's name, status
 * and start, then the chosen parameter, metric and tag columns. Headers
 * sort (on the tracking server); the row under them filters. Only the rows
 * in view are drawn, and the next page is fetched as the end comes near.
 */
export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { model, trans } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const columns = [...ATTRIBUTE_COLUMNS, ...model.columns];
  const template = [WIDTHS.select, ...columns.map(width)]
    .map(w => `${w}px`)
    .join(' ');
  const runs = model.runs;
  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const seen = Math.ceil(view.height / ROW_HEIGHT);
  const last = Math.min(runs.length, first + seen + 2 * OVERSCAN);
  const lastSeen = Math.floor((view.top + view.height) / ROW_HEIGHT);

  useLayoutEffect(() => {
    const node = scroller.current;
    if (node === null) {
      return;
    }
    const measure = () =>
      setView({ top: node.scrollTop, height: node.clientHeight || 600 });
    measure();
    const resize = new ResizeObserver(measure);
    resize.observe(node);
    return () => resize.disconnect();
  }, []);

  useEffect(() => {
    if (!model.complete && !model.busy && model.error === null) {
      if (lastSeen >= runs.length - PREFETCH_ROWS) {
        void model.loadMore();
      }
    }
  }, [lastSeen, runs.length, model.busy, model.complete, model.error]);

  const allSelected =
    runs.length > 0 && runs.every(r => model.isSelected(r.info.run_id));
  return (
    <div
      ref={scroller}
      className="jp-Labworks-runsScroll"
      onScroll={e =>
        setView({
          top: e.currentTarget.scrollTop,
          height: e.currentTarget.clientHeight || 600
        })
      }
    >
      <div
        className="jp-Labworks-runsTable"
        role="table"
        aria-label={trans.__('Runs of %1', model.experiment.name)}
        aria-rowcount={runs.length + 2}
        data-testid="labworks-runs-table"
      >
        <div
          className="jp-Labworks-runsHead"
          role="row"
          style={{ gridTemplateColumns: template }}
        >
          <span role="columnheader" className="jp-Labworks-runsCell">
            <input
              type="checkbox"
              aria-label={trans.__('Select all listed runs')}
              checked={allSelected}
              onChange={() => model.toggleAll()}
            />
          </span>
          {columns.map(column => (
            <HeaderCell key={columnId(column)} column={column} {...props} />
          ))}
        </div>
        <div
          className="jp-Labworks-runsFilters"
          role="row"
          style={{ gridTemplateColumns: template }}
        >
          <span role="cell" />
          {columns.map(column => (
            <FilterCell key={columnId(column)} column={column} {...props} />
          ))}
        </div>
        <div
          className="jp-Labworks-runsBody"
          style={{ height: runs.length * ROW_HEIGHT }}
        >
          {runs.slice(first, last).map((run, i) => (
            <Row
              key={run.info.run_id}
              run={run}
              index={first + i}
              columns={columns}
              template={template}
              {...props}
            />
          ))}
        </div>
      </div>
    </div>
  );
}

function kindLabel(column: IColumn, trans: TranslationBundle): string {
  switch (column.kind) {
    case 'metric':
      return trans.__('metric');
    case 'param':
      return trans.__('parameter');
    case 'tag':
      return trans.__('tag');
    default:
      return trans.__('attribute');
  }
}

function attributeLabel(key: string, trans: TranslationBundle): string {
  switch (key) {
    case 'run_name':
      return trans.__('Run');
    case 'status':
      return trans.__('Status');
    case 'start_time':
      return trans.__('Started');
    default:
      return key;
  }
}

function HeaderCell(props: IRunsTableProps & { column: IColumn }): JSX.Element {
  const { model, column, trans } = props;
  const sorted =
    model.sort !== null && columnId(model.sort.column) === columnId(column)
      ? model.sort.descending
        ? 'descending'
        : 'ascending'
      : 'none';
  const label =
    column.kind === 'attribute'
      ? attributeLabel(column.key, trans)
      : isCostColumn(column)
        ? trans.__('Cost')
        : column.key;
  return (
    <span
      role="columnheader"
      aria-sort={sorted}
      className={`jp-Labworks-runsCell jp-mod-${column.kind}`}
    >
      <button
        className="jp-Labworks-sortButton"
        title={trans.__(
          '%1 %2 (%3): click to sort',
          kindLabel(column, trans),
          column.key,
          searchName(column)
        )}
        onClick={() => void model.toggleSort(column)}
      >
        <span className="jp-Labworks-headerText">{label}</span>
        {sorted !== 'none' && (
          <span aria-hidden="true">{sorted === 'descending' ? '▼' : '▲'}</span>
        )}
      </button>
    </span>
  );
}

function FilterCell(props: IRunsTableProps & { column: IColumn }): JSX.Element {
  const { model, column, trans } = props;
  const id = columnId(column);
  const applied = model.columnFilters[id] ?? '';
  const [text, setText] = useState(applied);
  useEffect(() => setText(applied), [applied]);
  useEffect(() => {
    if (text === applied) {
      return;
    }
    const timer = setTimeout(
      () => void model.setColumnFilter(column, text),
      FILTER_DELAY_MS
    );
    return () => clearTimeout(timer);
  }, [text]);
  if (column.key === 'start_time') {
    return <span role="cell" />;
  }
  const hint =
    column.kind === 'metric'
      ? trans.__('e.g. > 0.9')
      : trans.__('part, or = value');
  return (
    <span role="cell" className="jp-Labworks-runsCell">
      <input
        type="search"
        className="jp-Labworks-columnFilter"
        aria-label={trans.__('Filter %1', searchName(column))}
        placeholder={hint}
        value={text}
        onChange={e => setText(e.target.value)}
        onKeyDown={e => {
          if (e.key === 'Enter') {
            void model.setColumnFilter(column, text);
          }
        }}
      />
    </span>
  );
}

function Row(
  props: IRunsTableProps & {
    run: IRun;
    index: number;
    columns: IColumn[];
    template: string;
  }
): JSX.Element {
  const { model, run, index, columns, template, trans } = props;
  const selected = model.isSelected(run.info.run_id);
  return (
    <div
      role="row"
      aria-rowindex={index + 3}
      aria-selected={selected}
      className={`jp-Labworks-runsRow${selected ? ' jp-mod-selected' : ''}`}
      data-testid={`labworks-run-row-${run.info.run_id}`}
      style={{
        gridTemplateColumns: template,
        top: index * ROW_HEIGHT,
        height: ROW_HEIGHT
      }}
    >
      <span role="cell" className="jp-Labworks-runsCell">
        <input
          type="checkbox"
          aria-label={trans.__(
            'Select run %1',
            run.info.run_name ?? run.info.run_id
          )}
          checked={selected}
          onChange={() => model.toggle(run)}
        />
      </span>
      {columns.map(column => (
        <Cell key={columnId(column)} {...props} column={column} />
      ))}
    </div>
  );
}

function Cell(
  props: IRunsTableProps & { run: IRun; column: IColumn }
): JSX.Element {
  const { run, column } = props;
  const value = cellValue(run, column);
  if (column.kind === 'attribute' && column.key === 'run_name') {
    return (
      <span role="cell" className="jp-Labworks-runsCell">
        <button
          className="jp-Labworks-runLink"
          title={props.trans.__('Open run %1', run.info.run_id)}
          onClick={() => props.openRun(run)}
        >
          {value}
        </button>
      </span>
    );
  }
  let text = value === undefined ? '' : String(value);
  if (column.key === 'start_time' && typeof value === 'number') {
    text = formatLocalTime(value, {
      dateStyle: 'medium',
      timeStyle: 'short'
    });
  } else if (typeof value === 'number' && isCostColumn(column)) {
    text = formatCost(value);
  } else if (typeof value === 'number') {
    text = formatNumber(value);
  }
  return (
    <span
      role="cell"
      className={`jp-Labworks-runsCell jp-mod-${column.kind}${
        column.key === 'status' ? ` jp-mod-${String(value).toLowerCase()}` : ''
      }${isCostColumn(column) ? ' jp-mod-cost' : ''}`}
      title={value === undefined ? undefined : String(value)}
    >
      {text}
    </span>
  );
}
