import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

import { launcherPlugin } from '../launcher';
import { LabworksSidebar } from '../sidebar';

function panel(id: string): Widget {
  const widget = new Widget();
  widget.id = id;
  return widget;
}

describe('launcherPlugin', () => {
  it('adds a Labworks card per panel with an open command, ranked as its tab', () => {
    const shell = { add: jest.fn(), activateById: jest.fn() };
    const sidebar = new LabworksSidebar({
      shell: shell as unknown as JupyterFrontEnd.IShell,
      placements: {
        'labworks-workspace': { area: 'left', rank: 600 },
        'labworks-admin': { area: 'right', rank: 650 }
      }
    });
    const removed = jest.fn();
    const launcher = {
      add: jest.fn((item: unknown) => ({ item, dispose: removed }))
    };
    sidebar.addPanel(panel('labworks-workspace'), {
      command: 'labworks:open-workspace'
    });
    sidebar.addPanel(panel('labworks-other')); // no command: no card

    launcherPlugin.activate({} as JupyterFrontEnd, sidebar, launcher, null);
    const admin = panel('labworks-admin');
    sidebar.addPanel(admin, { command: 'labworks:open-admin' });

    expect(launcher.add.mock.results.map(r => r.value.item)).toEqual([
      {
        command: 'labworks:open-workspace',
        args: { isLauncher: true },
        category: 'Labworks',
        rank: 600
      },
      {
        command: 'labworks:open-admin',
        args: { isLauncher: true },
        category: 'Labworks',
        rank: 650
      }
    ]);
    admin.dispose();
    expect(removed).toHaveBeenCalledTimes(1);
  });

  it('does nothing without a launcher', () => {
    const sidebar = { panels: [], panelAdded: { connect: jest.fn() } };
    launcherPlugin.activate({} as JupyterFrontEnd, sidebar, null, null);
    expect(sidebar.panelAdded.connect).not.toHaveBeenCalled();
  });
});
