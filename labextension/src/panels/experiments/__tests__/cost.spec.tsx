import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import React from 'react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../../../common/experiments/client';
import { columnId } from '../columns';
import { IColumnStore, RunsModel } from '../runs';
import { RunsView } from '../RunsView';
import type { IRun } from '../../../common/experiments/types';
import {
  installResizeObserver,
  sampleExperiment,
  samplePage,
  sampleRun
} from './sample';

const trans = nullTranslator.load('labworks');

beforeAll(installResizeObserver);

class MemoryStore implements IColumnStore {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

const jobRun = sampleRun('job1', {
  name: 'nightly',
  metrics: { 'labworks.cost_usd': 0.4215, acc: 0.9 },
  params: { lr: '0.1' }
});
const cheapRun = sampleRun('job2', {
  name: 'quick',
  metrics: { 'labworks.cost_usd': 0.0042, acc: 0.8 }
});
const lapRun = sampleRun('lap', { name: 'in the lab', metrics: { acc: 0.7 } });

function page(runs: IRun[]): IFakeAnswer {
  return { body: samplePage(runs) };
}

function setup(answers: IFakeAnswer[], store: IColumnStore | null = null) {
  const server = fakeServer(...answers);
  const model = new RunsModel({
    client: new ExperimentsClient(server.settings),
    experiment: sampleExperiment(),
    columnStore: store
  });
  return { model, requests: server.requests };
}

describe('the Cost column', () => {
  it('is shown first by default, once, when a run has a cost', async () => {
    const runs = [jobRun, cheapRun, lapRun];
    const { model, requests } = setup([page(runs), page(runs)]);
    await model.refresh();
    expect(model.columns.map(columnId)).toEqual([
      'metric:labworks.cost_usd',
      'metric:acc',
      'param:lr'
    ]);
    // The second page carries the cost's values.
    expect((await requests[1].json()).columns.metrics).toEqual([
      'labworks.cost_usd',
      'acc'
    ]);
    model.dispose();
  });

  it('is not shown for runs without a cost', async () => {
    const { model } = setup([page([lapRun]), page([lapRun])]);
    await model.refresh();
    expect(model.columns.map(columnId)).toEqual(['metric:acc']);
    model.dispose();
  });

  it('joins chosen columns once; hiding it is remembered', async () => {
    const store = new MemoryStore();
    store.setItem('labworks:experiments:columns:7', '["metric:acc"]');
    const runs = [jobRun];
    const { model } = setup([page(runs), page(runs), page(runs)], store);
    await model.refresh();
    expect(model.columns.map(columnId)).toEqual([
      'metric:labworks.cost_usd',
      'metric:acc'
    ]);
    expect(store.getItem('labworks:experiments:columns:7')).toBe(
      '["metric:labworks.cost_usd","metric:acc"]'
    );
    model.setColumns([{ kind: 'metric', key: 'acc' }]);
    await model.refresh();
    expect(model.columns.map(columnId)).toEqual(['metric:acc']);
    model.dispose();
  });

  it('shows money under a Cost header and sorts on the server', async () => {
    const runs = [jobRun, cheapRun, lapRun];
    const { model, requests } = setup([page(runs), page(runs), page(runs)]);
    await act(() => model.refresh());
    render(
      <RunsView
        model={model}
        actions={{ openRun: jest.fn(), compare: jest.fn() }}
        trans={trans}
      />
    );
    const table = screen.getByTestId('labworks-runs-table');
    const headers = within(table)
      .getAllByRole('columnheader')
      .map(h => h.textContent);
    expect(headers.filter(h => h === 'Cost')).toHaveLength(1);
    expect(headers).not.toContain('labworks.cost_usd');
    const cells = (id: string) =>
      within(screen.getByTestId(`labworks-run-row-${id}`))
        .getAllByRole('cell')
        .map(c => c.textContent);
    expect(cells('job1')).toContain('$0.42');
    expect(cells('job2')).toContain('$0.0042');
    expect(cells('lap')[4]).toBe('');
    await act(async () => {
      fireEvent.click(within(table).getByText('Cost'));
    });
    expect((await requests[2].json()).order_by).toEqual([
      'metrics.`labworks.cost_usd` DESC'
    ]);
    model.dispose();
  });
});
