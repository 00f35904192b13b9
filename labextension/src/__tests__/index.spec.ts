import type { JupyterFrontEnd } from '@jupyterlab/application';
import { CommandRegistry } from '@lumino/commands';
import type { Widget } from '@lumino/widgets';

import plugins, {
  CommandIDs,
  ILabworksSidebar,
  IWorkspaceFactsProvider
} from '../index';
import { sampleFacts } from '../panels/workspace/__tests__/sample';
import { WorkspaceFactsProvider } from '../workspaceFacts';
import { fakeServer } from './fakeServer';

/**
 * Just enough of JupyterFrontEnd for the plugins: a shell, commands and
 * server settings.
 */
function fakeApp() {
  const { settings, requests } = fakeServer({ body: sampleFacts() });
  const added: { widget: Widget; area?: string }[] = [];
  const shell = {
    add: jest.fn((widget: Widget, area?: string) =>
      added.push({ widget, area })
    ),
    activateById: jest.fn()
  };
  const app = {
    commands: new CommandRegistry(),
    shell,
    serviceManager: { serverSettings: settings }
  } as unknown as JupyterFrontEnd;
  const facts = new WorkspaceFactsProvider(settings);
  return { app, shell, added, requests, facts };
}

describe('labworks plugins', () => {
  const [sidebarPlugin, workspacePlugin] = plugins;

  it('adds one left sidebar holding the Workspace panel', () => {
    const { app, added, facts } = fakeApp();
    const sidebar = sidebarPlugin.activate(app, null, null) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, null, null);

    expect(sidebarPlugin.provides).toBe(ILabworksSidebar);
    expect(workspacePlugin.requires).toContain(ILabworksSidebar);
    expect(workspacePlugin.requires).toContain(IWorkspaceFactsProvider);
    expect(added).toHaveLength(1);
    expect(added[0].area).toBe('left');
    expect(added[0].widget.id).toBe('labworks-sidebar');
    const panels = (added[0].widget as any).widgets as Widget[];
    expect(panels.map(p => p.title.label)).toEqual(['Workspace']);
  });

  it('opens the sidebar and refreshes the facts through commands', async () => {
    const { app, shell, requests, facts } = fakeApp();
    const sidebar = sidebarPlugin.activate(app, null, null) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, null, null);

    await app.commands.execute(CommandIDs.openWorkspace);
    expect(shell.activateById).toHaveBeenCalledWith('labworks-sidebar');

    await app.commands.execute(CommandIDs.refreshWorkspace);
    expect(requests).toHaveLength(1);
    expect(new URL(requests[0].url).pathname).toMatch(/labworks\/workspace$/);
  });

  it('adds both commands to the palette', () => {
    const { app, facts } = fakeApp();
    const palette = { addItem: jest.fn() };
    const sidebar = sidebarPlugin.activate(app, null, null) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, palette, null);

    expect(palette.addItem.mock.calls.map(([item]) => item)).toEqual([
      { command: 'labworks:open-workspace', category: 'Labworks' },
      { command: 'labworks:refresh-workspace', category: 'Labworks' },
      { command: 'labworks:share-workspace', category: 'Labworks' }
    ]);
  });
});
