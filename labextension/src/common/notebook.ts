import type {
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import type { Widget } from '@lumino/widgets';

/**
 * The document context of `widget` when it is a notebook, else `null`.
 */
export function notebookContext(
  widget: Widget | null
): DocumentRegistry.Context | null {
  const context = (widget as IDocumentWidget | null)?.context;
  if (!widget?.hasClass('jp-NotebookPanel') || !context) {
    return null;
  }
  return context.path.endsWith('.ipynb') ? context : null;
}
