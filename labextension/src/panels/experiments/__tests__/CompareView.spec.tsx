import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../../../common/experiments/client';
import { CompareModel } from '../compare';
import { CompareView } from '../CompareView';
import { installResizeObserver, sampleRun, where } from './sample';

/**
 * jsdom has no canvas, so uPlot cannot draw here: a stand-in records what
 * the chart was given (the browser test draws the real one).
 */
const mockCharts: { opts: any; data: any[]; destroyed: boolean }[] = [];
jest.mock('uplot', () => {
  class MockPlot {
    constructor(opts: any, data: any[]) {
      this.record = { opts, data, destroyed: false };
      this.width = opts.width;
      mockCharts.push(this.record);
    }
    record: { opts: any; data: any[]; destroyed: boolean };
    width: number;
    setData(data: any[]) {
      this.record.data = data;
    }
    setSize() {
      // Nothing is laid out in jsdom.
    }
    destroy() {
      this.record.destroyed = true;
    }
    static paths = { bars: () => () => null };
  }
  return { __esModule: true, default: MockPlot };
});

const trans = nullTranslator.load('labworks');

beforeAll(installResizeObserver);
beforeEach(() => mockCharts.splice(0));

const runs = [
  sampleRun('a1', {
    name: 'base',
    params: { lr: '0.1', epochs: '10' },
    metrics: { acc: 0.71, loss: 0.05 }
  }),
  sampleRun('b2', {
    name: 'tuned',
    params: { lr: '0.01', epochs: '10' },
    metrics: { acc: 0.93, loss: 0.04 }
  })
];

function history(key: string): IFakeAnswer {
  return {
    body: {
      metrics: [
        { run_id: 'a1', key, value: 1, step: 0 },
        { run_id: 'a1', key, value: 0.5, step: 1 },
        { run_id: 'b2', key, value: 0.8, step: 0 },
        { run_id: 'b2', key, value: 0.4, step: 1 }
      ]
    }
  };
}

/**
 * The chart on screen whose x axis is `x` ('step': the curves, 'run': the bars).
 */
function chart(x: string) {
  const shown = mockCharts.filter(
    c => !c.destroyed && c.opts.series[0].label === x
  );
  expect(shown).toHaveLength(1);
  return shown[0];
}

function readText(blob: Blob): Promise<string> {
  return new Promise(resolve => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.readAsText(blob);
  });
}

describe('CompareView', () => {
  it('overlays the runs’ curves, smoothed, on a linear or log scale', async () => {
    const server = fakeServer(history('acc'), history('loss'));
    const model = new CompareModel({
      client: new ExperimentsClient(server.settings),
      runs
    });
    await model.load();
    const { path, query } = where(server.requests[0]);
    expect(path).toBe(
      'mlflow/api/2.0/mlflow/metrics/get-history-bulk-interval'
    );
    expect(query.getAll('run_ids')).toEqual(['a1', 'b2']);
    expect(query.get('metric_key')).toBe('acc');
    const view = () => (
      <CompareView model={model} trans={trans} openRun={jest.fn()} />
    );
    const { rerender } = render(view());
    const [curves, bars] = [chart('step'), chart('run')];
    expect(curves.opts.series.map((s: any) => s.label)).toEqual([
      'step',
      'base',
      'tuned'
    ]);
    expect(curves.data).toEqual([
      [0, 1],
      [1, 0.5],
      [0.8, 0.4]
    ]);
    expect(bars.opts.series.map((s: any) => s.label)).toEqual([
      'run',
      'base',
      'tuned'
    ]);
    expect(bars.data).toEqual([
      [0, 1],
      [0.71, null],
      [null, 0.93]
    ]);

    await act(async () => {
      fireEvent.change(screen.getAllByLabelText('Metric')[0], {
        target: { value: 'loss' }
      });
    });
    expect(where(server.requests[1]).query.get('metric_key')).toBe('loss');
    act(() => {
      fireEvent.change(screen.getByLabelText(/Smoothing/), {
        target: { value: '0.5' }
      });
    });
    rerender(view());
    expect(screen.getByText('Smoothing 0.50')).toBeTruthy();
    const smoothed = chart('step').data;
    expect(smoothed[1][0]).toBeCloseTo(1);
    expect(smoothed[1][1]).toBeCloseTo(2 / 3); // (0.25 + 0.25) / 0.75
    act(() => {
      fireEvent.click(screen.getByLabelText('Log scale'));
    });
    rerender(view());
    const log = chart('step');
    expect(log.opts.scales.y.distr).toBe(3);
    expect(log.opts.series.map((s: any) => s.label)).toEqual([
      'step',
      'base',
      'tuned'
    ]);
    model.dispose();
  });

  it('marks the parameters that differ and exports the runs as CSV', async () => {
    const server = fakeServer(history('acc'), {
      body: 'run_id,run_name\r\na1,base\r\nb2,tuned\r\n'
    });
    const model = new CompareModel({
      client: new ExperimentsClient(server.settings),
      runs
    });
    await model.load();
    render(<CompareView model={model} trans={trans} openRun={jest.fn()} />);
    const rows = screen
      .getByTestId('labworks-param-diff')
      .querySelectorAll('tbody tr');
    expect(
      Array.from(rows).map(r => [
        r.querySelector('th')!.textContent,
        r.getAttribute('data-differs')
      ])
    ).toEqual([
      ['epochs', 'false'],
      ['lr', 'true']
    ]);
    expect(screen.getByText('1 of 2 parameters differs')).toBeTruthy();

    const saved: Blob[] = [];
    URL.createObjectURL = jest.fn((blob: Blob) => {
      saved.push(blob);
      return 'blob:runs';
    });
    URL.revokeObjectURL = jest.fn();
    const clicked: HTMLAnchorElement[] = [];
    const click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function (this: HTMLAnchorElement) {
        clicked.push(this); // jsdom cannot follow a download link
      });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: /Export CSV/ }));
    });
    expect(where(server.requests[1]).path).toBe('experiments/runs/export');
    expect(await server.requests[1].json()).toEqual({ run_ids: ['a1', 'b2'] });
    expect(await readText(saved[0])).toContain('b2,tuned');
    expect(clicked.map(a => [a.download, a.href])).toEqual([
      ['runs-comparison.csv', 'blob:runs']
    ]);
    click.mockRestore();
    model.dispose();
  });
});

describe('CompareView’s cost', () => {
  it('shows each run’s cost on its own, not among the metrics', async () => {
    const priced = [
      sampleRun('a1', {
        name: 'base',
        metrics: { acc: 0.71, 'labworks.cost_usd': 1.5 }
      }),
      sampleRun('b2', { name: 'tuned', metrics: { acc: 0.93 } })
    ];
    const server = fakeServer(history('acc'));
    const model = new CompareModel({
      client: new ExperimentsClient(server.settings),
      runs: priced
    });
    expect(model.metrics).toEqual(['acc']);
    await model.load();
    render(<CompareView model={model} trans={trans} openRun={jest.fn()} />);
    const rows = screen
      .getByTestId('labworks-compare-cost')
      .querySelectorAll('tr');
    expect(Array.from(rows).map(r => r.textContent)).toEqual([
      'base$1.50',
      'tuned—'
    ]);
  });

  it('has no cost section when no run has a cost', () => {
    const model = new CompareModel({
      client: new ExperimentsClient(fakeServer().settings),
      runs
    });
    render(<CompareView model={model} trans={trans} openRun={jest.fn()} />);
    expect(screen.queryByTestId('labworks-compare-cost')).toBeNull();
  });
});
