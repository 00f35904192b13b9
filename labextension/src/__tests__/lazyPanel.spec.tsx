import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { act } from '@testing-library/react';
import React from 'react';

import { ILoadableModel, LazyPanel, loadOnce } from '../lazyPanel';

/**
 * A model that counts its refreshes and can be put in any state.
 */
class Counter implements ILoadableModel {
  loaded = false;
  error: string | null = null;
  busy = false;
  refreshes = 0;
  readonly changed = new Signal<this, void>(this);

  async refresh(): Promise<void> {
    this.refreshes++;
  }
}

class Panel extends LazyPanel {
  constructor(readonly model: Counter) {
    super();
    this.watch(model);
  }

  shown = 0;
  hidden = 0;
  renders = 0;

  protected render(): JSX.Element {
    this.renders++;
    return <span>{this.model.refreshes}</span>;
  }

  protected onVisible(): void {
    this.shown++;
    loadOnce(this.model);
  }

  protected onHidden(): void {
    this.hidden++;
  }
}

describe('loadOnce', () => {
  it('asks only a model that has nothing, no error, and is not asking', () => {
    const model = new Counter();
    loadOnce(model);
    expect(model.refreshes).toBe(1);

    const states: Partial<Counter>[] = [
      { loaded: true },
      { error: 'down' },
      { busy: true }
    ];
    for (const state of states) {
      const other: Counter = Object.assign(new Counter(), state);
      loadOnce(other);
      expect(other.refreshes).toBe(0);
    }
  });
});

describe('LazyPanel', () => {
  it('loads when attached visible or shown, not while hidden', () => {
    const model = new Counter();
    const panel = new Panel(model);
    panel.hide();
    act(() => Widget.attach(panel, document.body));
    expect(panel.shown).toBe(0);
    expect(model.refreshes).toBe(0);

    act(() => panel.show());
    expect(panel.shown).toBe(1);
    expect(model.refreshes).toBe(1);

    act(() => panel.hide());
    expect(panel.hidden).toBe(1);
    model.loaded = true;
    act(() => panel.show());
    expect(panel.shown).toBe(2);
    expect(model.refreshes).toBe(1); // loaded once is enough
    act(() => panel.dispose());
  });

  it('renders again when a watched model changes, until disposed', async () => {
    const model = new Counter();
    const panel = new Panel(model);
    act(() => Widget.attach(panel, document.body));
    expect(panel.shown).toBe(1);
    const before = panel.renders;

    model.refreshes = 7;
    await act(async () => {
      model.changed.emit();
      await new Promise(resolve => requestAnimationFrame(resolve));
    });
    expect(panel.renders).toBe(before + 1);
    expect(panel.node.textContent).toBe('7');

    act(() => panel.dispose());
    model.changed.emit(); // disconnected: nothing to render
    expect(panel.renders).toBe(before + 1);
  });
});
