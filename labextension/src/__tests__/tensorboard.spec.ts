import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import type { Widget } from '@lumino/widgets';

import {
  type ITensorBoard,
  openTensorBoard,
  TensorBoardCommandIDs,
  tensorboardPlugin
} from '../tensorboard';
import { dismiss, openDialog } from './act';
import { fakeServer, type IFakeAnswer } from './fakeServer';

const board: ITensorBoard = {
  id: '0123456789ab',
  url: '/user/al%20ice@lab/labworks/tensorboard/0123456789ab/',
  logdir: 'logs/exp1',
  run_id: null,
  started: 1,
  last_used: 1
};

/**
 * Just enough of JupyterFrontEnd: commands, a main area, a context menu and
 * server settings answering from `answers`.
 */
function fakeApp(...answers: IFakeAnswer[]) {
  const { settings, requests } = fakeServer(...answers);
  const main: Widget[] = [];
  const app = {
    commands: new CommandRegistry(),
    shell: {
      add: jest.fn((widget: Widget) => main.push(widget)),
      activateById: jest.fn(),
      widgets: () => main[Symbol.iterator]()
    },
    contextMenu: { addItem: jest.fn() },
    serviceManager: { serverSettings: settings }
  };
  return {
    app: app as unknown as JupyterFrontEnd,
    shell: app.shell,
    main,
    requests
  };
}

async function bodyOf(request: Request): Promise<unknown> {
  return JSON.parse(await request.text());
}

describe('openTensorBoard', () => {
  it('starts TensorBoard for a run and shows it in a main-area IFrame', async () => {
    const { app, shell, main, requests } = fakeApp({
      body: { ...board, logdir: '', run_id: 'abcdef0123456789' }
    });
    const widget = await openTensorBoard(app, { runId: 'abcdef0123456789' });

    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe('POST');
    expect(new URL(requests[0].url).pathname).toBe(
      '/user/al%20ice@lab/labworks/tensorboard'
    );
    expect(await bodyOf(requests[0])).toEqual({ run_id: 'abcdef0123456789' });
    expect(widget).toBeInstanceOf(MainAreaWidget);
    expect(main).toEqual([widget]);
    expect(widget!.id).toBe('labworks-tensorboard-0123456789ab');
    expect(widget!.title.label).toBe('TensorBoard: run abcdef01');
    const iframe = widget!.node.querySelector('iframe')!;
    expect(iframe.src).toBe(
      'http://localhost:8888/user/al%20ice@lab/labworks/tensorboard/0123456789ab/'
    );
    expect(iframe.getAttribute('sandbox')).toContain('allow-scripts');
    expect(shell.activateById).toHaveBeenCalledWith(widget!.id);
  });

  it('brings an open TensorBoard of the same folder to the front', async () => {
    const { app, main, requests } = fakeApp({ body: board }, { body: board });
    const first = await openTensorBoard(app, { logdir: 'logs/exp1' });
    const second = await openTensorBoard(app, { logdir: 'logs/exp1/' });

    expect(await bodyOf(requests[0])).toEqual({ logdir: 'logs/exp1' });
    expect(second).toBe(first);
    expect(main).toHaveLength(1);
    expect(first!.title.label).toBe('TensorBoard: logs/exp1');
  });

  it("shows the server's reason when TensorBoard cannot open", async () => {
    const { app, main } = fakeApp({
      status: 404,
      body: {
        error: 'not_found',
        message: 'run r1 has no tensorboard/ artifacts'
      }
    });
    const { started, dialog } = await openDialog(() =>
      openTensorBoard(app, { runId: 'r1' })
    );
    expect(dialog.textContent).toContain(
      'run r1 has no tensorboard/ artifacts'
    );
    await dismiss();
    expect(await started).toBeNull();
    expect(main).toHaveLength(0);
  });
});

describe('tensorboardPlugin', () => {
  it('opens the folder selected in the file browser, from the context menu', async () => {
    const { app, main, requests } = fakeApp({ body: board });
    const browser = {
      selectedItems: () =>
        [{ type: 'directory', path: 'logs/exp1' }][Symbol.iterator](),
      model: { path: 'logs' }
    };
    const palette = { addItem: jest.fn() };
    tensorboardPlugin.activate(app, palette, null, browser);

    expect(palette.addItem).toHaveBeenCalledWith({
      command: TensorBoardCommandIDs.open,
      category: 'Labworks'
    });
    expect(app.contextMenu.addItem).toHaveBeenCalledWith(
      expect.objectContaining({
        command: TensorBoardCommandIDs.open,
        selector: '.jp-DirListing-item[data-isdir="true"]'
      })
    );
    await app.commands.execute(TensorBoardCommandIDs.open);
    expect(await bodyOf(requests[0])).toEqual({ logdir: 'logs/exp1' });
    expect(main).toHaveLength(1);
  });

  it("falls back to the file browser's folder, and takes explicit arguments", async () => {
    const { app, requests } = fakeApp(
      { body: board },
      { body: { ...board, id: 'ba9876543210' } }
    );
    const browser = {
      selectedItems: () =>
        [{ type: 'notebook', path: 'logs/a.ipynb' }][Symbol.iterator](),
      model: { path: 'logs' }
    };
    tensorboardPlugin.activate(app, null, null, browser);

    await app.commands.execute(TensorBoardCommandIDs.open);
    await app.commands.execute(TensorBoardCommandIDs.open, { runId: 'r2' });
    expect(await bodyOf(requests[0])).toEqual({ logdir: 'logs' });
    expect(await bodyOf(requests[1])).toEqual({ run_id: 'r2' });
  });
});
