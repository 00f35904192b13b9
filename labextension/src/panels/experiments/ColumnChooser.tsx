import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useState } from 'react';

import { columnId, IColumn, isCostColumn } from './columns';
import type { RunsModel } from './runs';

/**
 * The most keys of one kind listed at once; the search narrows the rest.
 */
export const MAX_LISTED_KEYS = 300;

type Kind = 'metric' | 'param' | 'tag';

/**
 * Which parameter, metric and tag columns the runs table shows: every key
 * seen in the listed runs, narrowed by a search, each with a checkbox.
 */
export function ColumnChooser(props: {
  model: RunsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [search, setSearch] = useState('');
  const shown = new Set(model.columns.map(columnId));
  const needle = search.trim().toLowerCase();
  const groups: { kind: Kind; title: string }[] = [
    { kind: 'metric', title: trans.__('Metrics') },
    { kind: 'param', title: trans.__('Parameters') },
    { kind: 'tag', title: trans.__('Tags') }
  ];
  const matching = (kind: Kind) =>
    model.keys[kind].filter(key => key.toLowerCase().includes(needle));
  const set = (columns: IColumn[]) => model.setColumns(columns);
  const toggle = (column: IColumn) =>
    shown.has(columnId(column))
      ? set(model.columns.filter(c => columnId(c) !== columnId(column)))
      : set([...model.columns, column]);
  const showAll = (kind: Kind) =>
    set([
      ...model.columns,
      ...matching(kind)
        .map(key => ({ kind, key }))
        .filter(c => !shown.has(columnId(c)))
    ]);
  const hideAll = (kind: Kind) =>
    set(model.columns.filter(c => c.kind !== kind));
  return (
    <div
      className="jp-Labworks-columnChooser"
      data-testid="labworks-column-chooser"
      role="group"
      aria-label={trans.__('Columns')}
    >
      <input
        type="search"
        className="jp-mod-styled"
        aria-label={trans.__('Find a column')}
        placeholder={trans.__('Find a parameter, metric or tag')}
        value={search}
        onChange={e => setSearch(e.target.value)}
      />
      <div className="jp-Labworks-columnGroups">
        {groups.map(({ kind, title }) => {
          const keys = matching(kind);
          return (
            <fieldset key={kind} className="jp-Labworks-columnGroup">
              <legend>
                {title} ({keys.length})
              </legend>
              <div className="jp-Labworks-columnActions">
                <button
                  className="jp-Labworks-linkButton"
                  disabled={keys.length === 0}
                  onClick={() => showAll(kind)}
                >
                  {needle ? trans.__('Show matching') : trans.__('Show all')}
                </button>
                <button
                  className="jp-Labworks-linkButton"
                  onClick={() => hideAll(kind)}
                >
                  {trans.__('Hide all')}
                </button>
              </div>
              <ul>
                {keys.slice(0, MAX_LISTED_KEYS).map(key => {
                  const column = { kind, key };
                  return (
                    <li key={key}>
                      <label className="jp-Labworks-check">
                        <input
                          type="checkbox"
                          checked={shown.has(columnId(column))}
                          onChange={() => toggle(column)}
                        />
                        {isCostColumn(column)
                          ? trans.__('Cost (%1)', key)
                          : key}
                      </label>
                    </li>
                  );
                })}
              </ul>
              {keys.length > MAX_LISTED_KEYS && (
                <p className="jp-Labworks-hint">
                  {trans.__(
                    '%1 more: find them by name.',
                    keys.length - MAX_LISTED_KEYS
                  )}
                </p>
              )}
            </fieldset>
          );
        })}
      </div>
      <p className="jp-Labworks-hint">
        {model.complete
          ? trans.__('All keys of the listed runs.')
          : trans.__(
              'Keys of the runs listed so far; scroll the table for more.'
            )}
      </p>
    </div>
  );
}
