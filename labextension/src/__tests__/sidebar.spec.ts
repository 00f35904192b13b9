import { AccordionPanel, Widget } from '@lumino/widgets';

import { labworksIcon } from '../icons';
import { LabworksSidebar } from '../sidebar';

function panel(id: string, label: string): Widget {
  const widget = new Widget();
  widget.id = id;
  widget.title.label = label;
  return widget;
}

describe('LabworksSidebar', () => {
  it('is the labworks-sidebar widget with our icon and caption', () => {
    const sidebar = new LabworksSidebar();
    expect(sidebar.id).toBe('labworks-sidebar');
    expect(sidebar.title.icon).toBe(labworksIcon);
    expect(sidebar.title.caption).toBe('Labworks');
    sidebar.dispose();
  });

  it('orders panels by rank, then by insertion', () => {
    const sidebar = new LabworksSidebar();
    sidebar.addPanel(panel('jobs', 'Jobs'), { rank: 20 });
    sidebar.addPanel(panel('workspace', 'Workspace'), { rank: 0 });
    sidebar.addPanel(panel('costs', 'Costs'));
    sidebar.addPanel(panel('data', 'Data'), { rank: 20 });

    expect(sidebar.widgets.map(w => w.id)).toEqual([
      'workspace',
      'jobs',
      'data',
      'costs'
    ]);
    sidebar.dispose();
  });

  it('refuses a panel without an id or a second panel with the same id', () => {
    const sidebar = new LabworksSidebar();
    sidebar.addPanel(panel('workspace', 'Workspace'));
    expect(() => sidebar.addPanel(new Widget())).toThrow('needs an id');
    expect(() => sidebar.addPanel(panel('workspace', 'Again'))).toThrow(
      'already added'
    );
    sidebar.dispose();
  });

  it('reveals itself and expands a collapsed panel on activatePanel', () => {
    const reveal = jest.fn();
    const sidebar = new LabworksSidebar({ reveal });
    sidebar.addPanel(panel('workspace', 'Workspace'));
    Widget.attach(sidebar, document.body);
    const content = sidebar.content as AccordionPanel;
    content.collapse(0);
    expect(sidebar.widgets[0].isHidden).toBe(true);

    sidebar.activatePanel('workspace');

    expect(reveal).toHaveBeenCalledTimes(1);
    expect(sidebar.widgets[0].isHidden).toBe(false);
    sidebar.dispose();
  });
});
