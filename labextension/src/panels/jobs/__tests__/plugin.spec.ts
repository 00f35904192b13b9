import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { ContentsManager } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import { waitFor } from '@testing-library/react';

import { dismiss, openDialog } from '../../../__tests__/act';
import { fakeServer } from '../../../__tests__/fakeServer';
import type { ILabworksSidebar } from '../../../tokens';
import { WorkspaceFactsProvider } from '../../../workspaceFacts';
import { sampleFacts } from '../../workspace/__tests__/sample';
import { JobsClient } from '../../../common/jobs/client';
import { saveIfOpen } from '../../../common/jobs/launch';
import { notifyEnded, openJobDiff, runAsJob } from '../commands';
import {
  JOBS_DRIVE,
  outputPath,
  parseOutputPath
} from '../../../common/jobOutputs';
import { JobOutputDrive } from '../drive';
import { JobsModel } from '../model';
import { JobsCommandIDs, jobsPlugin } from '../plugin';
import { samplePrices } from '../../../common/__tests__/costSample';
import { sampleInspect, sampleJob, sampleProfiles } from './sample';

const trans = nullTranslator.load('labworks');

function notebookWidget(path: string, dirty: boolean): Widget {
  const widget = new Widget();
  widget.addClass('jp-NotebookPanel');
  (widget as any).context = {
    path,
    model: { dirty },
    save: jest.fn(async () => undefined)
  } as unknown as DocumentRegistry.Context;
  return widget;
}

function fakeApp(settings = fakeServer().settings) {
  const widgets: Widget[] = [];
  return {
    commands: new CommandRegistry(),
    shell: {
      add: jest.fn(),
      currentWidget: null as Widget | null,
      widgets: () => widgets[Symbol.iterator](),
      main: widgets
    },
    contextMenu: { addItem: jest.fn() },
    docRegistry: { addWidgetExtension: jest.fn() },
    restored: new Promise<void>(() => undefined),
    serviceManager: {
      serverSettings: settings,
      contents: { addDrive: jest.fn() },
      kernelspecs: {
        specs: {
          default: 'python3',
          kernelspecs: {
            python3: { name: 'python3', display_name: 'Python 3' }
          }
        }
      }
    }
  };
}

describe('job output drive', () => {
  it('names a job and its notebook in the path', () => {
    expect(outputPath({ id: '4f0c2a9e81d3', name: 'train.ipynb' })).toBe(
      'LabworksJobs:4f0c2a9e81d3/train (job 4f0c2a9e81d3).ipynb'
    );
    expect(
      parseOutputPath('4f0c2a9e81d3/train (job 4f0c2a9e81d3).ipynb')
    ).toEqual({ id: '4f0c2a9e81d3', name: 'train (job 4f0c2a9e81d3).ipynb' });
    expect(parseOutputPath('x/y.ipynb')).toBeNull();
    expect(parseOutputPath('4f0c/a/b.ipynb')).toBeNull();
  });

  it('serves the output read-only through the contents manager', async () => {
    const content = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };
    const { settings, requests } = fakeServer({
      body: { job_id: '4f0c2a9e81d3', attempt: 1, complete: true, content }
    });
    const contents = new ContentsManager({ serverSettings: settings });
    const drive = new JobOutputDrive(new JobsClient(settings), 'read-only');
    contents.addDrive(drive);

    const file = await contents.get(outputPath(sampleJob()));

    expect(new URL(requests[0].url).pathname).toMatch(
      /\/labworks\/jobs\/4f0c2a9e81d3\/output$/
    );
    expect(file.path).toBe(
      `${JOBS_DRIVE}:4f0c2a9e81d3/train (job 4f0c2a9e81d3).ipynb`
    );
    expect(file.writable).toBe(false);
    expect(file.content).toEqual(content);
    await expect(drive.save()).rejects.toThrow('read-only');
    await expect(drive.get('nothing')).rejects.toThrow('No job output at');
    contents.dispose();
  });
});

describe('running a notebook as a job', () => {
  afterEach(async () => {
    if (document.querySelector('.jp-Dialog')) {
      await dismiss();
    }
  });

  it('saves the open notebook first, then opens the dialog on it', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleFacts() },
      { body: { profiles: sampleProfiles() } },
      { body: samplePrices() },
      { body: sampleInspect() }
    );
    const app = fakeApp(settings);
    const open = notebookWidget('work/train.ipynb', true);
    const other = notebookWidget('work/other.ipynb', true);
    app.shell.main.push(open, other);
    const model = new JobsModel({ serverSettings: settings });

    const { started: done, dialog } = await openDialog(() =>
      runAsJob(
        {
          app: app as unknown as JupyterFrontEnd,
          model,
          workspace: new WorkspaceFactsProvider(settings),
          trans
        },
        'work/train.ipynb'
      )
    );

    expect((open as any).context.save).toHaveBeenCalled();
    expect((other as any).context.save).not.toHaveBeenCalled();
    await waitFor(() =>
      expect(dialog.textContent).toContain('Runs the saved work/train.ipynb')
    );
    await waitFor(() => expect(requests).toHaveLength(4));
    await waitFor(() =>
      expect(dialog.querySelector('#jp-Labworks-parameter-epochs')).not.toBe(
        null
      )
    );
    // The profiles were listed; this workspace's is proposed.
    const profile = dialog.querySelector(
      '#jp-Labworks-jobField-profile'
    ) as HTMLSelectElement;
    expect(profile.tagName).toBe('SELECT');
    expect(profile.value).toBe('cpu-small');
    expect(profile.options).toHaveLength(3);
    // With what an hour on it costs.
    expect(
      dialog.querySelector('[data-testid="labworks-profile-price"]')
        ?.textContent
    ).toBe('$0.40/h');
    await dismiss();
    expect(await done).toBeNull();
    expect(
      requests.map(r => new URL(r.url).pathname.split('/labworks/')[1])
    ).toEqual(['workspace', 'profiles', 'cost/prices', 'jobs/inspect']);
    model.dispose();
  });

  it('refuses a notebook of a read-only drive', async () => {
    const { settings, requests } = fakeServer();
    const model = new JobsModel({ serverSettings: settings });
    const { started: done, dialog } = await openDialog(() =>
      runAsJob(
        {
          app: fakeApp(settings) as unknown as JupyterFrontEnd,
          model,
          workspace: new WorkspaceFactsProvider(settings),
          trans
        },
        'LabworksGallery:7/v2/focus (v2).ipynb'
      )
    );
    expect(dialog.textContent).toContain(
      'Only notebooks of this workspace can run as jobs'
    );
    await dismiss();
    expect(await done).toBeNull();
    expect(requests).toHaveLength(0);
    model.dispose();
  });

  it('saves only dirty notebooks at that path', async () => {
    const app = fakeApp();
    const clean = notebookWidget('a.ipynb', false);
    app.shell.main.push(clean);
    await saveIfOpen(app as unknown as JupyterFrontEnd, 'a.ipynb');
    expect((clean as any).context.save).not.toHaveBeenCalled();
  });
});

describe('notifyEnded', () => {
  it('tells the outcome with Open output and Show job actions', () => {
    const emit = jest.spyOn(Notification, 'emit');
    const openOutput = jest.fn();
    const showJob = jest.fn();

    notifyEnded(
      sampleJob({ status: 'failed', reason: 'cell 4 raised ValueError' }),
      trans,
      openOutput,
      showJob
    );

    const [message, type, options] = emit.mock.calls[0];
    expect(message).toBe('Job train.ipynb failed: cell 4 raised ValueError');
    expect(type).toBe('error');
    const actions = options?.actions ?? [];
    expect(actions.map(a => a.label)).toEqual(['Open output', 'Show job']);
    actions[0].callback(new MouseEvent('click'));
    expect(openOutput).toHaveBeenCalledWith(
      expect.objectContaining({ id: '4f0c2a9e81d3' })
    );

    notifyEnded(
      sampleJob({ status: 'succeeded', has_output: false }),
      trans,
      openOutput,
      showJob
    );
    expect(emit.mock.calls[1][0]).toBe('Job train.ipynb succeeded');
    expect(emit.mock.calls[1][1]).toBe('success');
    expect(emit.mock.calls[1][2]?.actions?.map(a => a.label)).toEqual([
      'Show job'
    ]);
    emit.mockRestore();
  });
});

describe('openJobDiff', () => {
  it('points the tab at nbdime with the exact input and the output', async () => {
    const { settings } = fakeServer({
      body: {
        base: '.labworks/jobs/4f0c2a9e81d3/source.ipynb',
        remote: '.labworks/jobs/4f0c2a9e81d3/output.ipynb',
        source_path: 'work/train.ipynb'
      }
    });
    const model = new JobsModel({ serverSettings: settings });
    const tab = { location: { href: '' }, close: jest.fn() };

    expect(
      await openJobDiff(model, sampleJob(), tab as unknown as Window)
    ).toBe(true);

    const url = new URL(tab.location.href);
    expect(url.pathname).toBe('/user/al%20ice@lab/nbdime/difftool');
    expect(url.searchParams.get('remote')).toBe(
      '.labworks/jobs/4f0c2a9e81d3/output.ipynb'
    );
    expect(url.searchParams.get('base')).toBe(
      '.labworks/jobs/4f0c2a9e81d3/source.ipynb'
    );
    model.dispose();
  });

  it('closes the tab when the files cannot be written', async () => {
    const { settings } = fakeServer({
      status: 404,
      body: { error: 'not_found', message: 'the source notebook is gone' }
    });
    const model = new JobsModel({ serverSettings: settings });
    const tab = { location: { href: '' }, close: jest.fn() };

    expect(
      await openJobDiff(model, sampleJob(), tab as unknown as Window)
    ).toBe(false);
    expect(tab.close).toHaveBeenCalled();
    expect(model.error).toBe('the source notebook is gone');
    model.dispose();
  });
});

describe('jobsPlugin', () => {
  it('adds the drive, the panel, the commands, menus and toolbar button', () => {
    const app = fakeApp();
    const sidebar = { addPanel: jest.fn(), activatePanel: jest.fn() };
    const palette = { addItem: jest.fn() };
    const browser = {
      selectedItems: jest.fn(() =>
        [{ type: 'notebook', path: 'work/train.ipynb' }][Symbol.iterator]()
      )
    };

    jobsPlugin.activate(
      app as unknown as JupyterFrontEnd,
      sidebar as unknown as ILabworksSidebar,
      new WorkspaceFactsProvider(),
      palette,
      null,
      browser
    );

    const [drive] = app.serviceManager.contents.addDrive.mock.calls[0];
    expect(drive).toBeInstanceOf(JobOutputDrive);
    const [panel, options] = sidebar.addPanel.mock.calls[0];
    expect(panel.title.label).toBe('Jobs');
    expect(options).toEqual({ command: 'labworks:open-jobs' });
    expect(app.commands.isEnabled(JobsCommandIDs.run)).toBe(false);
    app.shell.currentWidget = notebookWidget('work/train.ipynb', false);
    expect(app.commands.isEnabled(JobsCommandIDs.run)).toBe(true);
    expect(app.commands.isVisible(JobsCommandIDs.runFile)).toBe(true);
    expect(app.contextMenu.addItem.mock.calls.map(([item]) => item)).toEqual([
      expect.objectContaining({
        command: JobsCommandIDs.run,
        selector: '.jp-Notebook'
      }),
      expect.objectContaining({
        command: JobsCommandIDs.runFile,
        selector: '.jp-DirListing-item[data-file-type="notebook"]'
      })
    ]);
    const [factory, extension] =
      app.docRegistry.addWidgetExtension.mock.calls[0];
    expect(factory).toBe('Notebook');
    const toolbar = { addItem: jest.fn() };
    extension.createNew({ toolbar }, { path: 'work/train.ipynb' });
    expect(toolbar.addItem.mock.calls[0][0]).toBe('labworks-run-job');
    toolbar.addItem.mockClear();
    expect(
      extension.createNew({ toolbar }, { path: 'LabworksJobs:1/a.ipynb' })
    ).toBeUndefined();
    expect(toolbar.addItem).not.toHaveBeenCalled();
    expect(palette.addItem.mock.calls.map(([item]) => item.command)).toEqual([
      JobsCommandIDs.open,
      JobsCommandIDs.run
    ]);
    panel.dispose();
  });
});
