import { fakeServer } from '../../__tests__/fakeServer';
import {
  CostClient,
  fetchPrices,
  formatCost,
  formatPerHour,
  monthsBetween,
  profilePrice
} from '../cost';
import { samplePrices } from './costSample';

describe('cost formatting', () => {
  it('shows money with cents, and under a cent with four decimals', () => {
    expect(formatCost(1.5)).toBe('$1.50');
    expect(formatCost(1234.567)).toBe('$1,234.57');
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(0.0042)).toBe('$0.0042');
    expect(formatCost(3, 'EUR')).toBe('€3.00');
    expect(formatCost(3, 'not a code')).toBe('3.00 not a code');
    expect(formatPerHour(0.4)).toBe('$0.40/h');
  });

  it('finds a profile’s price', () => {
    expect(profilePrice(samplePrices(), 'cpu-large')).toBe(2.5);
    expect(profilePrice(samplePrices(), 'gpu-1')).toBeUndefined();
    expect(profilePrice(null, 'cpu-large')).toBeUndefined();
  });

  it('lists the months a span of work is billed in', () => {
    expect(
      monthsBetween('2026-11-30T23:00:00Z', '2027-01-01T01:00:00Z')
    ).toEqual(['2026-11', '2026-12', '2027-01']);
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(monthsBetween('2026-12-01T00:00:00Z', null, now)).toEqual([
      '2026-12'
    ]);
    expect(monthsBetween('garbage')).toEqual([]);
  });
});

describe('CostClient', () => {
  it('asks this lab’s relay, and gives no prices when it refuses', async () => {
    const server = fakeServer(
      { body: samplePrices() },
      { body: { month: '2026-12', by: 'sweep', rows: [], total_usd: 0 } },
      { status: 404, body: { error: 'not_found', message: 'no cost' } }
    );
    const client = new CostClient(server.settings);
    expect((await client.prices()).profiles).toHaveLength(2);
    await client.report('sweep', '2026-12');
    expect(await fetchPrices(server.settings)).toBeNull();
    const paths = server.requests.map(
      r => decodeURIComponent(new URL(r.url).pathname).split('/labworks/')[1]
    );
    expect(paths).toEqual(['cost/prices', 'cost/report', 'cost/prices']);
    const query = new URL(server.requests[1].url).searchParams;
    expect([query.get('by'), query.get('month')]).toEqual(['sweep', '2026-12']);
  });
});
