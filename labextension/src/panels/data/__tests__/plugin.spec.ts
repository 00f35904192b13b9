import type { JupyterFrontEnd } from '@jupyterlab/application';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import type { Widget } from '@lumino/widgets';

import { fakeServer } from '../../../__tests__/fakeServer';
import type { ILabworksSidebar } from '../../../tokens';
import { WorkspaceFactsProvider } from '../../../workspaceFacts';
import { VisibilityForm } from '../../../common/visibility';
import { DataCommandIDs, dataPlugin } from '../plugin';

const trans = nullTranslator.load('labworks');

describe('dataPlugin', () => {
  it('adds the Data panel to the sidebar and a command that opens it', async () => {
    const { settings, requests } = fakeServer({ body: { datasets: [] } });
    const app = {
      commands: new CommandRegistry(),
      serviceManager: { serverSettings: settings }
    } as unknown as JupyterFrontEnd;
    const added: { panel: Widget; command?: string }[] = [];
    const sidebar = {
      addPanel: jest.fn((panel: Widget, options?: { command?: string }) =>
        added.push({ panel, command: options?.command })
      ),
      activatePanel: jest.fn()
    } as unknown as ILabworksSidebar;
    const palette = { addItem: jest.fn() };
    dataPlugin.activate(
      app,
      sidebar,
      new WorkspaceFactsProvider(settings),
      palette,
      null
    );

    expect(added.map(a => [a.panel.id, a.command])).toEqual([
      ['labworks-data', DataCommandIDs.open]
    ]);
    expect(palette.addItem).toHaveBeenCalledWith({
      command: DataCommandIDs.open,
      category: 'Labworks'
    });
    await app.commands.execute(DataCommandIDs.open);
    expect(sidebar.activatePanel).toHaveBeenCalledWith('labworks-data');
    expect(new URL(requests[0].url).pathname).toMatch(/labworks\/datasets$/);
    added[0].panel.dispose();
  });
});

describe('sharing a dataset', () => {
  it('reads and changes its visibility at the route of its two-part ref', async () => {
    const dataset = {
      name: 'iris',
      owner: 'al ice',
      visibility: 'private',
      yours: true
    };
    const { settings, requests } = fakeServer(
      { body: dataset },
      { body: { ...dataset, visibility: 'group:ml' } }
    );
    const form = new VisibilityForm({
      target: { kind: 'datasets', key: 'al ice/iris', name: 'al ice/iris' },
      groups: ['ml'],
      trans,
      serverSettings: settings
    });
    await form.load();
    form.choose('group:ml');
    expect((await form.submit())?.visibility).toBe('group:ml');
    for (const request of requests) {
      expect(new URL(request.url).pathname).toMatch(
        /\/labworks\/datasets\/al%20ice\/iris\/visibility$/
      );
    }
    expect(requests[1].method).toBe('PUT');
    form.dispose();
  });
});
