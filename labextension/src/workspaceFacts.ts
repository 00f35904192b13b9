import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './api';
import { IWorkspaceFacts, IWorkspaceFactsProvider } from './tokens';

/**
 * Asks GET /labworks/workspace once and shares the answer; `refresh()` asks
 * again. While the first request runs, every caller waits on it.
 */
export class WorkspaceFactsProvider implements IWorkspaceFactsProvider {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  facts(): Promise<IWorkspaceFacts> {
    return this._facts ?? this.refresh();
  }

  async refresh(): Promise<IWorkspaceFacts> {
    const asked = requestAPI<IWorkspaceFacts>(
      'workspace',
      {},
      this.serverSettings
    );
    const request = ++this._requests;
    this._facts ??= asked;
    try {
      const facts = await asked;
      if (request === this._requests) {
        this._facts = Promise.resolve(facts); // an older, slower answer never wins
      }
      return facts;
    } catch (reason) {
      if (this._facts === asked) {
        this._facts = null; // nothing good yet: the next call asks again
      }
      throw reason;
    }
  }

  private _facts: Promise<IWorkspaceFacts> | null = null;
  private _requests = 0;
}

/**
 * The one source of the workspace facts for every Labworks panel.
 */
export const workspaceFactsPlugin: JupyterFrontEndPlugin<IWorkspaceFactsProvider> =
  {
    id: 'labworks:workspace-facts',
    description: 'The facts of this workspace, asked once for every panel.',
    autoStart: true,
    provides: IWorkspaceFactsProvider,
    activate: (app: JupyterFrontEnd): IWorkspaceFactsProvider =>
      new WorkspaceFactsProvider(app.serviceManager.serverSettings)
  };
