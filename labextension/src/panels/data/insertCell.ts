import type { Widget } from '@lumino/widgets';

import { notebookContext } from '../../common/notebook';

/**
 * The part of a notebook widget's content that inserting a cell needs (a
 * JupyterLab `Notebook`), so that the panel needs no notebook package.
 */
interface INotebookContent {
  activeCellIndex: number;
  model: {
    sharedModel: {
      insertCell(
        index: number,
        cell: { cell_type: 'code'; source: string }
      ): unknown;
    };
  } | null;
}

/**
 * Insert a code cell holding `code` below the active cell of `widget` and
 * make it the active one, as "Insert Cell Below" does.
 *
 * @returns `false` when `widget` is not a notebook
 */
export function insertCodeCell(widget: Widget | null, code: string): boolean {
  if (notebookContext(widget) === null) {
    return false;
  }
  const notebook = (widget as unknown as { content?: INotebookContent })
    .content;
  if (!notebook?.model) {
    return false;
  }
  const index = notebook.activeCellIndex + 1;
  notebook.model.sharedModel.insertCell(index, {
    cell_type: 'code',
    source: code
  });
  notebook.activeCellIndex = index;
  return true;
}
