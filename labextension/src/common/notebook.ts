import type { JupyterFrontEnd } from '@jupyterlab/application';
import { ToolbarButton } from '@jupyterlab/apputils';
import type {
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import type { LabIcon } from '@jupyterlab/ui-components';
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

/**
 * A button on the toolbar of every notebook opened from the workspace's own
 * files (not a read-only drive's: a gallery version, a job output), calling
 * `onClick` with the notebook's path.
 */
export function addNotebookButton(
  app: JupyterFrontEnd,
  options: {
    name: string;
    icon: LabIcon;
    label: string;
    tooltip: string;
    onClick: (path: string) => void;
  }
): void {
  app.docRegistry.addWidgetExtension('Notebook', {
    createNew: (
      widget: IDocumentWidget,
      context: DocumentRegistry.Context
    ): ToolbarButton | void => {
      if (context.path.includes(':')) {
        return; // a read-only drive's notebook
      }
      const button = new ToolbarButton({
        icon: options.icon,
        label: options.label,
        tooltip: options.tooltip,
        onClick: () => options.onClick(context.path)
      });
      widget.toolbar.addItem(options.name, button);
      return button;
    }
  });
}
