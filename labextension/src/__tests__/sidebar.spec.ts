import { LabShell } from '@jupyterlab/application';
import type { ILayoutRestorer, LayoutRestorer } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { dataIcon, jobsIcon } from '../icons';
import { addPanelTab, LabworksSidebar } from '../sidebar';
import type { ILabworksSidebar } from '../tokens';

function panel(id: string, label: string): Widget {
  const widget = new Widget();
  widget.id = id;
  widget.title.label = label;
  return widget;
}

/**
 * A real JupyterLab shell, attached and ready to take widgets.
 */
async function labShell(): Promise<LabShell> {
  const shell = new LabShell();
  const restorer = { fetch: async () => ({}) };
  await shell.restoreLayout(
    'multiple-document',
    restorer as unknown as LayoutRestorer
  );
  Widget.attach(shell, document.body);
  return shell;
}

const ids = (shell: LabShell, area: 'left' | 'right') =>
  Array.from(shell.widgets(area)).map(w => w.id);

describe('LabworksSidebar', () => {
  let shell: LabShell;

  beforeEach(async () => {
    shell = await labShell();
  });

  afterEach(() => {
    shell.dispose();
  });

  it('puts each panel into the side area the settings name, ordered by their rank', () => {
    const sidebar = new LabworksSidebar({
      shell,
      placements: {
        'labworks-jobs': { area: 'left', rank: 610 },
        'labworks-data': { area: 'right', rank: 5 },
        'labworks-workspace': { area: 'left', rank: 600 }
      }
    });
    sidebar.addPanel(panel('labworks-jobs', 'Jobs'));
    sidebar.addPanel(panel('labworks-data', 'Data'));
    sidebar.addPanel(panel('labworks-workspace', 'Workspace'));

    expect(ids(shell, 'left')).toEqual(['labworks-workspace', 'labworks-jobs']);
    expect(ids(shell, 'right')).toEqual(['labworks-data']);
  });

  it('falls back on the options of addPanel, then on the default, field by field', () => {
    const sidebar = new LabworksSidebar({
      shell,
      placements: { 'labworks-costs': { area: 'right' } }
    });
    sidebar.addPanel(panel('labworks-costs', 'Costs'), {
      placement: { area: 'left', rank: 3 }
    });
    sidebar.addPanel(panel('labworks-sweeps', 'Sweeps'));

    expect(sidebar.placement('labworks-costs')).toEqual({
      area: 'right',
      rank: 3
    });
    expect(sidebar.placement('labworks-sweeps')).toEqual({
      area: 'left',
      rank: 900
    });
    expect(ids(shell, 'right')).toEqual(['labworks-costs']);
    expect(ids(shell, 'left')).toContain('labworks-sweeps');
  });

  it('moves a tab when its settings change, and keeps it shown', () => {
    const sidebar = new LabworksSidebar({
      shell,
      placements: {
        'labworks-jobs': { area: 'left', rank: 610 },
        'labworks-data': { area: 'left', rank: 630 }
      }
    });
    const jobs = panel('labworks-jobs', 'Jobs');
    sidebar.addPanel(jobs);
    sidebar.addPanel(panel('labworks-data', 'Data'));
    sidebar.activatePanel('labworks-jobs');
    expect(jobs.isVisible).toBe(true);

    sidebar.setPlacements({
      'labworks-jobs': { area: 'right', rank: 1 },
      'labworks-data': { area: 'left', rank: 630 }
    });

    expect(ids(shell, 'left')).toEqual(['labworks-data']);
    expect(ids(shell, 'right')).toEqual(['labworks-jobs']);
    expect(jobs.isVisible).toBe(true);
  });

  it('puts a tab back where the settings say after a layout restored it elsewhere', () => {
    const sidebar = new LabworksSidebar({
      shell,
      placements: {
        'labworks-jobs': { area: 'left', rank: 610 },
        'labworks-data': { area: 'left', rank: 630 }
      }
    });
    const jobs = panel('labworks-jobs', 'Jobs');
    sidebar.addPanel(panel('labworks-data', 'Data'));
    sidebar.addPanel(jobs);
    shell.add(jobs, 'right'); // as a layout saved before the settings changed
    expect(ids(shell, 'right')).toEqual(['labworks-jobs']);

    sidebar.reconcile();

    expect(ids(shell, 'left')).toEqual(['labworks-jobs', 'labworks-data']);
    expect(ids(shell, 'right')).toEqual([]);
  });

  it('activates the tab of a panel, and nothing for an unknown id', () => {
    const sidebar = new LabworksSidebar({ shell });
    const jobs = panel('labworks-jobs', 'Jobs');
    sidebar.addPanel(jobs);
    expect(jobs.isVisible).toBe(false);

    sidebar.activatePanel('labworks-nothing');
    expect(jobs.isVisible).toBe(false);
    sidebar.activatePanel('labworks-jobs');
    expect(jobs.isVisible).toBe(true);
  });

  it('restores each panel with the layout and says when one is added', () => {
    const restorer = { add: jest.fn() };
    const sidebar = new LabworksSidebar({
      shell,
      restorer: restorer as unknown as ILayoutRestorer
    });
    const added: string[] = [];
    sidebar.panelAdded.connect((_, p) => added.push(p.widget.id));
    const jobs = panel('labworks-jobs', 'Jobs');
    sidebar.addPanel(jobs, { command: 'labworks:open-jobs' });

    expect(restorer.add).toHaveBeenCalledWith(jobs, 'labworks-jobs');
    expect(added).toEqual(['labworks-jobs']);
    expect(sidebar.panels).toEqual([
      { widget: jobs, options: { command: 'labworks:open-jobs' } }
    ]);
    jobs.dispose();
    expect(sidebar.panels).toEqual([]);
  });

  it('refuses a panel without an id or a second panel with the same id', () => {
    const sidebar = new LabworksSidebar({ shell });
    sidebar.addPanel(panel('labworks-workspace', 'Workspace'));
    expect(() => sidebar.addPanel(new Widget())).toThrow('needs an id');
    expect(() =>
      sidebar.addPanel(panel('labworks-workspace', 'Again'))
    ).toThrow('already added');
  });
});

describe('addPanelTab', () => {
  const trans = nullTranslator.load('labworks');

  it('adds the tab and the command that opens it, labelled by the panel on a launcher card and in full elsewhere', async () => {
    const commands = new CommandRegistry();
    const sidebar = { activatePanel: jest.fn(), addPanel: jest.fn() };
    const palette = { addItem: jest.fn() };
    const model = { refresh: jest.fn(), dispose: jest.fn() };
    const jobs = panel('labworks-jobs', 'Jobs');
    addPanelTab(commands, {
      sidebar: sidebar as unknown as ILabworksSidebar,
      panel: jobs,
      model,
      icon: jobsIcon,
      command: 'labworks:open-jobs',
      placement: { rank: 610 },
      trans,
      palette: palette as unknown as ICommandPalette
    });

    expect(jobs.title.icon).toBe(jobsIcon);
    expect(sidebar.addPanel).toHaveBeenCalledWith(jobs, {
      command: 'labworks:open-jobs',
      placement: { rank: 610 }
    });
    expect(palette.addItem).toHaveBeenCalledWith({
      command: 'labworks:open-jobs',
      category: 'Labworks'
    });
    expect(commands.label('labworks:open-jobs', { isLauncher: true })).toBe(
      'Jobs'
    );
    expect(commands.label('labworks:open-jobs')).toBe('Open Labworks Jobs');
    expect(commands.caption('labworks:open-jobs')).toBe(
      'Show the Labworks Jobs panel'
    );
    expect(commands.icon('labworks:open-jobs')).toBe(jobsIcon);
    expect(commands.icon('labworks:open-jobs')).not.toBe(dataIcon);

    await commands.execute('labworks:open-jobs');
    expect(sidebar.activatePanel).toHaveBeenCalledWith('labworks-jobs');
    expect(model.refresh).toHaveBeenCalledTimes(1);
    jobs.dispose();
    expect(model.dispose).toHaveBeenCalledTimes(1);
  });

  it('leaves the model alone on opening where refreshOnOpen is false', async () => {
    const commands = new CommandRegistry();
    const model = { refresh: jest.fn(), dispose: jest.fn() };
    addPanelTab(commands, {
      sidebar: {
        activatePanel: jest.fn(),
        addPanel: jest.fn()
      } as unknown as ILabworksSidebar,
      panel: panel('labworks-workspace', 'Workspace'),
      model,
      icon: jobsIcon,
      command: 'labworks:open-workspace',
      trans,
      refreshOnOpen: false
    });
    await commands.execute('labworks:open-workspace');
    expect(model.refresh).not.toHaveBeenCalled();
  });
});
