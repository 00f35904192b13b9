import type { JupyterFrontEnd } from '@jupyterlab/application';
import { CommandRegistry } from '@lumino/commands';
import type { Widget } from '@lumino/widgets';
import { waitFor } from '@testing-library/react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { adminIcon } from '../../../icons';
import type {
  ILabworksSidebar,
  IWorkspaceFactsProvider
} from '../../../tokens';
import { AdminCommandIDs, adminPlugin } from '../plugin';

/**
 * Activate the plugin against a fake server; resolves what was added and
 * asked once the plugin has settled.
 */
function activate(admin: boolean, ...answers: IFakeAnswer[]) {
  const { settings, requests } = fakeServer(...answers);
  const app = {
    commands: new CommandRegistry(),
    serviceManager: { serverSettings: settings }
  } as unknown as JupyterFrontEnd;
  const added: Widget[] = [];
  const sidebar = {
    addPanel: jest.fn((panel: Widget) => added.push(panel)),
    activatePanel: jest.fn()
  } as unknown as ILabworksSidebar;
  const facts = {
    facts: jest.fn(async () => ({ admin })),
    refresh: jest.fn()
  } as unknown as IWorkspaceFactsProvider;
  const palette = { addItem: jest.fn() };
  adminPlugin.activate(app, sidebar, facts, palette, null);
  return { app, added, requests, palette, facts };
}

describe('adminPlugin', () => {
  it('adds the Admin tab, its command and palette item once the users list loads', async () => {
    const { app, added, palette } = activate(
      true,
      { body: { users: [] } },
      { body: { groups: [] } }
    );

    // The panel module loads lazily: give it time on a loaded machine.
    await waitFor(() => expect(added).toHaveLength(1), { timeout: 10_000 });
    expect(added[0].id).toBe('labworks-admin');
    expect(added[0].title.icon).toBe(adminIcon);
    expect(added[0].title.caption).toBe('Users and groups of the platform');
    expect(app.commands.hasCommand(AdminCommandIDs.open)).toBe(true);
    expect(palette.addItem).toHaveBeenCalledWith({
      command: AdminCommandIDs.open,
      category: 'Labworks'
    });
    added[0].dispose();
  });

  it('adds nothing when the platform refuses the list (not an administrator)', async () => {
    const { app, added, requests } = activate(true, {
      status: 403,
      body: { error: 'forbidden', message: 'administrators only' }
    });

    await waitFor(() => expect(requests).toHaveLength(2));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(added).toHaveLength(0);
    expect(app.commands.hasCommand(AdminCommandIDs.open)).toBe(false);
  });

  it('does not ask when the workspace facts say the person is no administrator', async () => {
    const { added, requests, facts } = activate(false);

    await waitFor(() => expect(facts.facts).toHaveBeenCalled());
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(requests).toHaveLength(0);
    expect(added).toHaveLength(0);
  });
});
