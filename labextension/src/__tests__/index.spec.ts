import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { workspaceIcon } from '../icons';
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
  const added: { widget: Widget; area?: string; rank?: number }[] = [];
  const shell = {
    add: jest.fn((widget: Widget, area?: string, options?: { rank?: number }) =>
      added.push({ widget, area, rank: options?.rank })
    ),
    activateById: jest.fn(),
    widgets: jest.fn(() => [][Symbol.iterator]())
  };
  const app = {
    commands: new CommandRegistry(),
    restored: new Promise<void>(() => undefined),
    shell,
    serviceManager: { serverSettings: settings }
  } as unknown as JupyterFrontEnd;
  const facts = new WorkspaceFactsProvider(settings);
  return { app, shell, added, requests, facts };
}

/**
 * The `labworks:sidebar` settings as the registry gives them.
 */
function fakeSettings(composite: Record<string, unknown>) {
  const settings = { composite, changed: new Signal<unknown, void>({}) };
  const registry = { load: jest.fn(async () => settings) };
  return { settings, registry: registry as unknown as ISettingRegistry };
}

describe('labworks plugins', () => {
  const [sidebarPlugin, workspacePlugin] = plugins;

  it('puts the Workspace panel in its own tab where the settings say', async () => {
    const { app, added, facts } = fakeApp();
    const { registry } = fakeSettings({
      'labworks-workspace': { area: 'right', rank: 7 }
    });
    const sidebar = (await sidebarPlugin.activate(
      app,
      null,
      registry
    )) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, null, null);

    expect(registry.load).toHaveBeenCalledWith('labworks:sidebar');
    expect(sidebarPlugin.provides).toBe(ILabworksSidebar);
    expect(workspacePlugin.requires).toContain(ILabworksSidebar);
    expect(workspacePlugin.requires).toContain(IWorkspaceFactsProvider);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ area: 'right', rank: 7 });
    expect(added[0].widget.id).toBe('labworks-workspace');
    expect(added[0].widget.title.icon).toBe(workspaceIcon);
    expect(added[0].widget.title.caption).toBeTruthy();
  });

  it('moves the tab when the settings change', async () => {
    const { app, added, facts } = fakeApp();
    const { settings, registry } = fakeSettings({
      'labworks-workspace': { area: 'left', rank: 600 }
    });
    const sidebar = (await sidebarPlugin.activate(
      app,
      null,
      registry
    )) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, null, null);

    settings.composite = { 'labworks-workspace': { area: 'right', rank: 1 } };
    settings.changed.emit();

    expect(added.map(a => [a.area, a.rank])).toEqual([
      ['left', 600],
      ['right', 1]
    ]);
  });

  it('places the tabs at their defaults when the settings do not load', async () => {
    const { app, added, facts } = fakeApp();
    const registry = {
      load: jest.fn(async () => {
        throw new Error('no schema');
      })
    } as unknown as ISettingRegistry;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const sidebar = (await sidebarPlugin.activate(
      app,
      null,
      registry
    )) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, null, null);

    expect(added[0]).toMatchObject({ area: 'left', rank: 900 });
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it('opens the Workspace tab and refreshes the facts through commands', async () => {
    const { app, shell, requests, facts } = fakeApp();
    const sidebar = (await sidebarPlugin.activate(
      app,
      null,
      null
    )) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, null, null);

    await app.commands.execute(CommandIDs.openWorkspace);
    expect(shell.activateById).toHaveBeenCalledWith('labworks-workspace');
    expect(app.commands.label(CommandIDs.openWorkspace)).toBe(
      'Open Labworks Workspace'
    );
    expect(app.commands.icon(CommandIDs.openWorkspace)).toBe(workspaceIcon);

    await app.commands.execute(CommandIDs.refreshWorkspace);
    expect(requests).toHaveLength(1);
    expect(new URL(requests[0].url).pathname).toMatch(/labworks\/workspace$/);
  });

  it('adds both commands to the palette', async () => {
    const { app, facts } = fakeApp();
    const palette = { addItem: jest.fn() };
    const sidebar = (await sidebarPlugin.activate(
      app,
      null,
      null
    )) as ILabworksSidebar;
    workspacePlugin.activate(app, sidebar, facts, palette, null);

    expect(palette.addItem.mock.calls.map(([item]) => item)).toEqual([
      { command: 'labworks:open-workspace', category: 'Labworks' },
      { command: 'labworks:refresh-workspace', category: 'Labworks' },
      { command: 'labworks:share-workspace', category: 'Labworks' }
    ]);
  });
});
