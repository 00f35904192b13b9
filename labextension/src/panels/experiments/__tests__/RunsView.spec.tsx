import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import React from 'react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../../../common/experiments/client';
import { RunsModel } from '../runs';
import { OVERSCAN } from '../RunsTable';
import { IRunsActions, RunsView } from '../RunsView';
import type { IRun } from '../../../common/experiments/types';
import {
  installResizeObserver,
  sampleExperiment,
  samplePage,
  sampleRun
} from './sample';

const trans = nullTranslator.load('labworks');

beforeAll(installResizeObserver);

function manyRuns(count: number, metrics = 200): IRun[] {
  return Array.from({ length: count }, (_, i) => {
    const values: Record<string, number> = {};
    for (let m = 0; m < metrics; m++) {
      values[`m${String(m).padStart(3, '0')}`] = i + m / 1000;
    }
    return sampleRun(`r${i}`, {
      name: `run-${i}`,
      metrics: values,
      params: { lr: String(i % 3) }
    });
  });
}

/**
 * The answers to a first listing: the page that says which keys there are,
 * then the page with the default columns' values.
 */
function firstListing(runs: IRun[]): IFakeAnswer[] {
  return [{ body: samplePage(runs) }, { body: samplePage(runs) }];
}

function setup(...answers: IFakeAnswer[]) {
  const server = fakeServer(...answers);
  const model = new RunsModel({
    client: new ExperimentsClient(server.settings),
    experiment: sampleExperiment(),
    pageSize: 1000
  });
  const actions: jest.Mocked<IRunsActions> = {
    openRun: jest.fn(),
    compare: jest.fn()
  };
  const view = () => <RunsView model={model} actions={actions} trans={trans} />;
  return { model, actions, view, requests: server.requests };
}

describe('RunsView', () => {
  it('draws only the rows in view and only the chosen columns', async () => {
    const { model, view } = setup(...firstListing(manyRuns(1000)));
    await act(() => model.refresh());
    render(view());
    const table = screen.getByTestId('labworks-runs-table');
    const rows = table.querySelectorAll('[data-testid^="labworks-run-row-"]');
    // jsdom lays nothing out: the table takes 600 px, about 22 rows.
    expect(rows.length).toBeLessThanOrEqual(Math.ceil(600 / 28) + 2 * OVERSCAN);
    expect(rows.length).toBeGreaterThan(10);
    expect(table.getAttribute('aria-rowcount')).toBe('1002');
    // Select, run, status, start, then 6 of the 200 metrics and 1 parameter.
    expect(within(table).getAllByRole('columnheader')).toHaveLength(11);
    expect(within(rows[0] as HTMLElement).getAllByRole('cell')).toHaveLength(
      11
    );
    expect(screen.getByTestId('labworks-runs-count').textContent).toBe(
      '1000 runs'
    );
    model.dispose();
  });

  it('sorts and filters on the server, and shows MLflow’s errors inline', async () => {
    const { model, view, requests } = setup(
      ...firstListing(manyRuns(3, 2)),
      { body: samplePage(manyRuns(3, 2).reverse()) },
      {
        status: 400,
        body: { error: 'INVALID_PARAMETER_VALUE', message: 'bad comparator' }
      }
    );
    await act(() => model.refresh());
    const { rerender } = render(view());
    await act(async () => {
      fireEvent.click(screen.getByTitle(/metric m001 \(metrics\.m001\)/));
    });
    expect((await requests[2].json()).order_by).toEqual(['metrics.m001 DESC']);
    rerender(view());
    const sorted = screen.getAllByRole('columnheader', { name: /m001/ })[0];
    expect(sorted.getAttribute('aria-sort')).toBe('descending');

    const search = screen.getByLabelText(
      'Filter runs with MLflow search syntax'
    );
    fireEvent.change(search, { target: { value: 'metrics.m000 >>> 1' } });
    await act(async () => {
      fireEvent.submit(search.closest('form')!);
    });
    expect((await requests[3].json()).filter).toBe('metrics.m000 >>> 1');
    rerender(view());
    expect(screen.getByTestId('labworks-runs-error').textContent).toBe(
      'bad comparator'
    );
    // The table and its filters stay, so a column filter can be cleared.
    expect(screen.getByLabelText('Filter metrics.m000')).toBeTruthy();
    model.dispose();
  });

  it('compares the selected runs, fetched whole', async () => {
    const whole = manyRuns(3, 20);
    const { model, view, actions, requests } = setup(
      ...firstListing(manyRuns(3, 2)),
      { body: { run: whole[2] } },
      { body: { run: whole[0] } }
    );
    await act(() => model.refresh());
    const { rerender } = render(view());
    const compare = () => screen.getByRole('button', { name: /Compare/ });
    expect(compare().textContent).toBe('Compare (0)');
    expect(compare().hasAttribute('disabled')).toBe(true);
    fireEvent.click(screen.getByLabelText('Select run run-2'));
    fireEvent.click(screen.getByLabelText('Select run run-0'));
    rerender(view());
    expect(compare().textContent).toBe('Compare (2)');
    await act(async () => {
      fireEvent.click(compare());
    });
    expect(requests).toHaveLength(4);
    expect(actions.compare.mock.calls[0][0]).toEqual([whole[2], whole[0]]);
    fireEvent.click(screen.getByRole('button', { name: 'run-1' }));
    expect(actions.openRun.mock.calls[0][0].info.run_id).toBe('r1');
    model.dispose();
  });

  it('chooses the columns among all keys seen', async () => {
    const { model, view, requests } = setup(...firstListing(manyRuns(2, 200)), {
      body: samplePage(manyRuns(2, 200))
    });
    await act(() => model.refresh());
    const { rerender } = render(view());
    fireEvent.click(screen.getByRole('button', { name: 'Columns (7)' }));
    const chooser = screen.getByTestId('labworks-column-chooser');
    expect(chooser.textContent).toContain('Metrics (200)');
    fireEvent.change(within(chooser).getByLabelText('Find a column'), {
      target: { value: 'm19' }
    });
    expect(chooser.textContent).toContain('Metrics (10)');
    fireEvent.click(within(chooser).getAllByText('Hide all')[0]);
    await act(async () => {
      fireEvent.click(within(chooser).getAllByText('Show matching')[0]);
    });
    // New columns: the page is asked again with their values.
    expect(requests).toHaveLength(3);
    expect((await requests[2].json()).columns.metrics).toEqual(
      Array.from({ length: 10 }, (_, i) => `m19${i}`)
    );
    rerender(view());
    const headers = screen
      .getAllByRole('columnheader')
      .map(h => h.textContent)
      .slice(4);
    expect(headers).toEqual([
      'lr',
      ...Array.from({ length: 10 }, (_, i) => `m19${i}`)
    ]);
    model.dispose();
  });
});
