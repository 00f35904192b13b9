import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  showErrorMessage
} from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import type { ServerConnection } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { IFrame } from '@jupyterlab/ui-components';

import { requestAPI } from './api';

/**
 * TensorBoard in the lab: the server extension starts one TensorBoard per
 * log directory (`POST /labworks/tensorboard`) and proxies it; the lab shows
 * it in a main-area IFrame.
 */

/**
 * The command ids of TensorBoard.
 */
export namespace TensorBoardCommandIDs {
  export const open = 'labworks:open-tensorboard';
}

/**
 * A TensorBoard the server runs (`GET /labworks/tensorboard`).
 */
export interface ITensorBoard {
  id: string;
  /** Absolute path of its UI on this server, ending with `/`. */
  url: string;
  /** The workspace folder it shows ('' for a run's logs). */
  logdir: string;
  run_id: string | null;
  started: number;
  last_used: number;
}

/**
 * What to show: a workspace folder (relative to the server root) or the
 * `tensorboard/` artifacts of an MLflow run.
 */
export type TensorBoardSource = { logdir: string } | { runId: string };

/**
 * Start (or find) the TensorBoard of `source` on the server.
 */
export async function startTensorBoard(
  source: TensorBoardSource,
  settings?: ServerConnection.ISettings
): Promise<ITensorBoard> {
  const body =
    'runId' in source ? { run_id: source.runId } : { logdir: source.logdir };
  return requestAPI<ITensorBoard>(
    'tensorboard',
    { method: 'POST', body: JSON.stringify(body) },
    settings
  );
}

/**
 * The page URL of a TensorBoard: its path on the server, resolved against
 * the server's base URL (which may name another origin).
 */
export function tensorBoardPageUrl(
  board: ITensorBoard,
  settings: ServerConnection.ISettings
): string {
  return new URL(board.url, URLExt.join(settings.baseUrl, '/')).href;
}

/**
 * Open the TensorBoard of `source` in the main area (or bring its tab to the
 * front) and resolve its widget. Errors (no such folder, no logs in the run)
 * are shown to the user and resolve `null`. The Experiments panel calls this
 * for "Open in TensorBoard": `openTensorBoard(app, { runId })`.
 */
export async function openTensorBoard(
  app: JupyterFrontEnd,
  source: TensorBoardSource,
  trans: TranslationBundle = nullTranslator.load('labworks')
): Promise<MainAreaWidget<IFrame> | null> {
  const settings = app.serviceManager.serverSettings;
  let board: ITensorBoard;
  try {
    board = await startTensorBoard(source, settings);
  } catch (reason) {
    await showErrorMessage(trans.__('Open TensorBoard'), reason as Error);
    return null;
  }
  const id = `labworks-tensorboard-${board.id}`;
  for (const widget of app.shell.widgets('main')) {
    if (widget.id === id) {
      app.shell.activateById(id);
      return widget as MainAreaWidget<IFrame>;
    }
  }
  const content = new IFrame({
    sandbox: ['allow-scripts', 'allow-same-origin', 'allow-downloads'],
    referrerPolicy: 'same-origin'
  });
  content.url = tensorBoardPageUrl(board, settings);
  const widget = new MainAreaWidget({ content });
  widget.id = id;
  widget.title.label =
    'runId' in source
      ? trans.__('TensorBoard: run %1', source.runId.slice(0, 8))
      : trans.__('TensorBoard: %1', board.logdir || '/');
  widget.title.caption = content.url;
  widget.title.closable = true;
  app.shell.add(widget, 'main');
  app.shell.activateById(id);
  return widget;
}

/**
 * The "Open TensorBoard" command: on the `logdir` or `runId` argument, else on
 * the folder selected in the file browser, else on the folder it shows.
 */
export const tensorboardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'labworks:tensorboard',
  description: 'Opens TensorBoard for a workspace folder or an MLflow run.',
  autoStart: true,
  optional: [ICommandPalette, ITranslator, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    browser: IDefaultFileBrowser | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('labworks');
    const selectedFolder = (): string | null => {
      const item = browser?.selectedItems().next();
      const model = item && !item.done ? item.value : null;
      return model?.type === 'directory' ? model.path : null;
    };
    app.commands.addCommand(TensorBoardCommandIDs.open, {
      label: trans.__('Open TensorBoard'),
      caption: trans.__(
        'Show TensorBoard for a folder of logs (the selected one, or the one the file browser shows)'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            logdir: {
              type: 'string',
              description: 'Folder of the workspace holding event files'
            },
            runId: {
              type: 'string',
              description: 'MLflow run whose tensorboard/ artifacts to show'
            }
          }
        }
      },
      execute: async args => {
        if (typeof args.runId === 'string') {
          return openTensorBoard(app, { runId: args.runId }, trans);
        }
        const logdir =
          typeof args.logdir === 'string'
            ? args.logdir
            : (selectedFolder() ?? browser?.model.path ?? '');
        return openTensorBoard(app, { logdir }, trans);
      }
    });
    if (palette) {
      palette.addItem({
        command: TensorBoardCommandIDs.open,
        category: trans.__('Labworks')
      });
    }
    app.contextMenu.addItem({
      command: TensorBoardCommandIDs.open,
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 4
    });
  }
};
