import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  acceptDialog,
  dismissDialog,
  waitForDialog
} from '@jupyterlab/testutils';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { fakeServer } from '../../../__tests__/fakeServer';
import type { ILabworksSidebar } from '../../../tokens';
import { WorkspaceFactsProvider } from '../../../workspaceFacts';
import { sampleFacts } from '../../workspace/__tests__/sample';
import { GalleryDrive } from '../drive';
import { GalleryModel } from '../model';
import { notebookContext } from '../../../common/notebook';
import {
  GalleryCommandIDs,
  galleryPlugin,
  openDiff,
  publishNotebook
} from '../plugin';
import { sampleDetail, sampleEntry } from './sample';

const trans = nullTranslator.load('labworks');

function fakeContext(path: string, dirty = false) {
  return {
    path,
    model: { dirty },
    save: jest.fn(async () => undefined)
  } as unknown as DocumentRegistry.Context & { save: jest.Mock };
}

function notebookWidget(path: string): Widget {
  const widget = new Widget();
  widget.addClass('jp-NotebookPanel');
  (widget as any).context = fakeContext(path);
  return widget;
}

describe('notebookContext', () => {
  it('finds the context of a notebook widget only', () => {
    expect(notebookContext(notebookWidget('a/b.ipynb'))?.path).toBe(
      'a/b.ipynb'
    );
    expect(notebookContext(null)).toBeNull();
    expect(notebookContext(new Widget())).toBeNull();
    const editor = notebookWidget('notes.txt');
    expect(notebookContext(editor)).toBeNull();
  });
});

describe('publishNotebook', () => {
  it('saves, asks for the group and publishes a new version', async () => {
    const published = {
      entry: sampleEntry({ latest_version: 3 }),
      version: { ...sampleDetail().versions[1], number: 3 }
    };
    const { settings, requests } = fakeServer(
      { body: sampleFacts() },
      { status: 201, body: published },
      { body: { entries: [published.entry] } },
      { body: sampleDetail() }
    );
    const model = new GalleryModel({ serverSettings: settings });
    const context = fakeContext('work/focus.ipynb', true);

    const done = publishNotebook(
      context,
      model,
      new WorkspaceFactsProvider(settings),
      trans
    );
    await waitForDialog();
    const dialog = document.querySelector('.jp-Dialog') as HTMLElement;
    expect(dialog.textContent).toContain('focus.ipynb');
    const group = dialog.querySelector('select') as HTMLSelectElement;
    expect(Array.from(group.options).map(o => o.value)).toEqual([
      'ml',
      'vision'
    ]);
    group.value = 'vision';
    (dialog.querySelector('input') as HTMLInputElement).value = ' tuned ';
    await acceptDialog();

    expect(await done).toBe(3);
    expect(context.save).toHaveBeenCalled();
    expect(await requests[1].json()).toEqual({
      path: 'work/focus.ipynb',
      group: 'vision',
      message: 'tuned'
    });
    model.dispose();
  });

  it('refuses a gallery version and a person in no group', async () => {
    const { settings, requests } = fakeServer({
      body: sampleFacts({ groups: [] })
    });
    const model = new GalleryModel({ serverSettings: settings });
    const workspace = new WorkspaceFactsProvider(settings);

    const gallery = publishNotebook(
      fakeContext('LabworksGallery:7/v2/focus.ipynb'),
      model,
      workspace,
      trans
    );
    await waitForDialog();
    expect(document.querySelector('.jp-Dialog')?.textContent).toContain(
      'gallery version already'
    );
    await dismissDialog();
    expect(await gallery).toBeNull();
    expect(requests).toHaveLength(0);

    const alone = publishNotebook(
      fakeContext('a.ipynb'),
      model,
      workspace,
      trans
    );
    await waitForDialog();
    expect(document.querySelector('.jp-Dialog')?.textContent).toContain(
      'You are in no group'
    );
    await dismissDialog();
    expect(await alone).toBeNull();
    expect(requests).toHaveLength(1);
    model.dispose();
  });
});

describe('galleryPlugin', () => {
  function fakeApp() {
    const { settings } = fakeServer();
    const added: { widget: Widget; area?: string }[] = [];
    const app = {
      commands: new CommandRegistry(),
      shell: {
        add: jest.fn((widget: Widget, area?: string) =>
          added.push({ widget, area })
        ),
        currentWidget: null as Widget | null
      },
      contextMenu: { addItem: jest.fn() },
      docRegistry: { addWidgetExtension: jest.fn() },
      serviceManager: {
        serverSettings: settings,
        contents: { addDrive: jest.fn() }
      }
    };
    return { app, added };
  }

  it('adds the drive, the panel and the publish command everywhere', () => {
    const { app } = fakeApp();
    const sidebar = { addPanel: jest.fn(), activatePanel: jest.fn() };
    const palette = { addItem: jest.fn() };

    galleryPlugin.activate(
      app as unknown as JupyterFrontEnd,
      sidebar as unknown as ILabworksSidebar,
      new WorkspaceFactsProvider(app.serviceManager.serverSettings),
      palette,
      null
    );

    const [drive] = app.serviceManager.contents.addDrive.mock.calls[0];
    expect(drive).toBeInstanceOf(GalleryDrive);
    const [panel, options] = sidebar.addPanel.mock.calls[0];
    expect(panel.title.label).toBe('Gallery');
    expect(options).toEqual({ command: 'labworks:open-gallery' });
    expect(app.commands.hasCommand(GalleryCommandIDs.publish)).toBe(true);
    expect(app.commands.isEnabled(GalleryCommandIDs.publish)).toBe(false);
    app.shell.currentWidget = notebookWidget('focus.ipynb');
    expect(app.commands.isEnabled(GalleryCommandIDs.publish)).toBe(true);
    expect(app.contextMenu.addItem).toHaveBeenCalledWith(
      expect.objectContaining({
        command: GalleryCommandIDs.publish,
        selector: '.jp-Notebook'
      })
    );
    expect(app.docRegistry.addWidgetExtension.mock.calls[0][0]).toBe(
      'Notebook'
    );
    expect(palette.addItem.mock.calls.map(([item]) => item.command)).toEqual([
      GalleryCommandIDs.open,
      GalleryCommandIDs.publish
    ]);
    panel.dispose();
  });

  it('opens nbdime between two versions in a browser tab', async () => {
    const { settings, requests } = fakeServer({
      body: {
        base: '.labworks/gallery/7/v1.ipynb',
        remote: '.labworks/gallery/7/v2.ipynb'
      }
    });
    const model = new GalleryModel({ serverSettings: settings });
    const tab = { location: { href: '' }, close: jest.fn() };
    const open = jest.spyOn(window, 'open').mockReturnValue(tab as any);

    expect(await openDiff(model, sampleEntry(), 1, 2)).toBe(true);

    expect(open).toHaveBeenCalledWith('', '_blank');
    expect(requests[0].method).toBe('POST');
    const url = new URL(tab.location.href);
    expect(url.pathname).toBe('/user/al%20ice@lab/nbdime/difftool');
    expect(url.searchParams.get('base')).toBe('.labworks/gallery/7/v1.ipynb');
    expect(url.searchParams.get('remote')).toBe('.labworks/gallery/7/v2.ipynb');
    open.mockRestore();
    model.dispose();
  });

  it('closes the tab again when the versions cannot be written', async () => {
    const { settings } = fakeServer({
      status: 404,
      body: { error: 'not_found', message: 'no gallery entry 7 in your groups' }
    });
    const model = new GalleryModel({ serverSettings: settings });
    const tab = { location: { href: '' }, close: jest.fn() };
    const open = jest.spyOn(window, 'open').mockReturnValue(tab as any);

    expect(await openDiff(model, sampleEntry(), 1, 2)).toBe(false);

    expect(tab.close).toHaveBeenCalled();
    expect(model.error).toBe('no gallery entry 7 in your groups');
    open.mockRestore();
    model.dispose();
  });
});
