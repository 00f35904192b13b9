import {
  alignCurves,
  barData,
  curvesByRun,
  metricKeys,
  paramDiff,
  runColor,
  runLabels,
  smooth
} from '../chartData';
import { sampleRun } from './sample';

describe('chart data', () => {
  it('splits histories by run, sorted by step', () => {
    const curves = curvesByRun([
      { run_id: 'a', key: 'loss', value: 0.5, step: 2 },
      { run_id: 'a', key: 'loss', value: 1, step: 0 },
      { run_id: 'b', key: 'loss', value: 'NaN', step: 0 },
      { run_id: 'a', key: 'loss', value: 0.7, step: 1 }
    ]);
    expect(curves.get('a')).toEqual({
      steps: [0, 1, 2],
      values: [1, 0.7, 0.5]
    });
    expect(curves.get('b')!.values[0]).toBeNaN();
  });

  it('smooths like TensorBoard: debiased, 0 leaves values alone', () => {
    const values = [1, 0, 1, 0];
    expect(smooth(values, 0)).toBe(values);
    const smoothed = smooth(values, 0.5);
    expect(smoothed[0]).toBeCloseTo(1); // not pulled towards 0
    expect(smoothed[1]).toBeCloseTo(1 / 3);
    expect(smoothed[2]).toBeCloseTo(5 / 7);
    expect(smooth([NaN, 2], 0.9)[1]).toBeCloseTo(2);
  });

  it('aligns curves on the union of steps, with gaps', () => {
    const data = alignCurves(
      [
        { steps: [0, 2], values: [1, 3] },
        { steps: [1, 2], values: [-1, 5] },
        undefined
      ],
      0,
      false
    );
    expect(data).toEqual([
      [0, 1, 2],
      [1, null, 3],
      [null, -1, 5],
      [null, null, null]
    ]);
    // A log scale cannot show values <= 0.
    expect(alignCurves([{ steps: [0, 1], values: [0, 10] }], 0, true)).toEqual([
      [0, 1],
      [null, 10]
    ]);
  });

  it('gives each run its own bar series', () => {
    const runs = [
      sampleRun('a', { metrics: { acc: 0.5 } }),
      sampleRun('b', { metrics: { acc: 0.9 } }),
      sampleRun('c')
    ];
    expect(barData(runs, 'acc')).toEqual([
      [0, 1, 2],
      [0.5, null, null],
      [null, 0.9, null],
      [null, null, null]
    ]);
  });

  it('puts parameters side by side and marks those that differ', () => {
    const rows = paramDiff([
      sampleRun('a', { params: { lr: '0.1', epochs: '5' } }),
      sampleRun('b', { params: { lr: '0.01', epochs: '5', seed: '1' } })
    ]);
    expect(rows).toEqual([
      { key: 'epochs', values: ['5', '5'], differs: false },
      { key: 'lr', values: ['0.1', '0.01'], differs: true },
      { key: 'seed', values: [undefined, '1'], differs: true }
    ]);
  });

  it('labels runs by name, telling apart runs of the same name', () => {
    const runs = [
      sampleRun('aaaaaa11', { name: 'base' }),
      sampleRun('bbbbbb22', { name: 'base' }),
      sampleRun('cccccc33', { name: 'tuned' })
    ];
    expect(runLabels(runs)).toEqual([
      'base (aaaaaa)',
      'base (bbbbbb)',
      'tuned'
    ]);
    expect(metricKeys([sampleRun('x', { metrics: { b: 1, a: 2 } })])).toEqual([
      'a',
      'b'
    ]);
    expect(runColor(0)).not.toBe(runColor(1));
    expect(runColor(10)).toBe(runColor(0));
  });
});
