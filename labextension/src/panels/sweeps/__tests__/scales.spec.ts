import {
  bestSoFar,
  extent,
  linearScale,
  logScale,
  niceTicks,
  pointScale,
  tickLabel
} from '../scales';

describe('extent', () => {
  it('spans the finite values, and pads a single value or none', () => {
    expect(extent([3, -1, 2, NaN, Infinity])).toEqual([-1, 3]);
    expect(extent([5])).toEqual([4.5, 5.5]);
    expect(extent([0])).toEqual([-1, 1]);
    expect(extent([])).toEqual([0, 1]);
  });
});

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten inside the domain', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-1, 1)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });
});

describe('linearScale', () => {
  it('maps the domain onto the range, also backwards (a y axis)', () => {
    const y = linearScale([0, 10], [100, 0]);
    expect(y(0)).toBe(100);
    expect(y(10)).toBe(0);
    expect(y(2.5)).toBe(75);
    expect(y.ticks).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it('puts every value in the middle of an empty domain', () => {
    expect(linearScale([1, 1], [0, 10])(1)).toBe(5);
  });
});

describe('logScale', () => {
  it('spaces decades evenly and ticks at the powers of ten', () => {
    const x = logScale([0.001, 0.1], [0, 100]);
    expect(x(0.001)).toBeCloseTo(0);
    expect(x(0.01)).toBeCloseTo(50);
    expect(x(0.1)).toBeCloseTo(100);
    expect(x.ticks).toEqual([0.001, 0.01, 0.1]);
    expect(logScale([2, 5], [0, 1]).ticks).toEqual([2, 5]);
  });
});

describe('pointScale', () => {
  it('places the choices evenly, an unknown value in the middle', () => {
    const y = pointScale(['a', 'b', 'c'], [0, 100]);
    expect([y('a'), y('b'), y('c'), y('z')]).toEqual([0, 50, 100, 50]);
    expect(pointScale([1, '1'], [0, 10])('1')).toBe(10);
    expect(pointScale(['only'], [0, 10])('only')).toBe(5);
  });
});

describe('bestSoFar', () => {
  it('keeps the best value in trial order, by direction', () => {
    expect(bestSoFar([3, null, 1, 2], 'minimize')).toEqual([3, 3, 1, 1]);
    expect(bestSoFar([null, 1, 3, 2], 'maximize')).toEqual([null, 1, 3, 3]);
  });
});

describe('tickLabel', () => {
  it('is short', () => {
    expect(tickLabel(0)).toBe('0');
    expect(tickLabel(0.123456)).toBe('0.123');
    expect(tickLabel(0.0001)).toBe('1e-4');
    expect(tickLabel(250000)).toBe('3e+5');
  });
});
