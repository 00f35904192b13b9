import { nullTranslator } from '@jupyterlab/translation';

import { formatHours, meterText, meterTitle, thisWorkspace } from '../format';
import { budget, summary } from './sample';

const trans = nullTranslator.load('labworks');

describe('meterText', () => {
  it("shows this workspace's burn rate, today's and this month's spend", () => {
    expect(meterText(summary(), trans)).toBe(
      '$0.12/h · today $1.40 · month $23.10'
    );
  });

  it("adds this workspace's GPU use where it has a GPU", () => {
    const shown = summary();
    shown.running[0].gpu_utilization = 45.4;
    expect(meterText(shown, trans)).toBe(
      '$0.12/h · today $1.40 · month $23.10 · GPU 45%'
    );
  });

  it('shows all running work until the meter has sampled this workspace', () => {
    const unsampled = summary({ workspace: 'alice/gpu' });
    expect(thisWorkspace(unsampled)).toBeNull();
    expect(meterText(unsampled, trans)).toBe(
      '$0.30/h · today $1.40 · month $23.10'
    );
  });

  it('shows a burn rate under a cent with its digits', () => {
    const small = summary({ running: [], burn_per_hour: 0.0042 });
    expect(meterText(small, trans)).toMatch(/^\$0\.0042\/h/);
  });
});

describe('meterTitle', () => {
  it('lists what runs with its burn rate, and the budgets', () => {
    const title = meterTitle(summary({ budgets: [budget()] }), trans);
    expect(title).toContain('This workspace costs $0.12 an hour');
    expect(title).toContain('All your running work: $0.30 an hour');
    expect(title).toContain('job train (cpu-small): $0.18/h');
    expect(title).toContain('group ml: $60.00 of $100.00 (60%)');
    expect(title).toContain('Click to open the Cost panel');
  });
});

describe('formatHours', () => {
  it('keeps one decimal, more for small amounts', () => {
    expect(formatHours(0)).toBe('0');
    expect(formatHours(9.25)).toBe('9.3');
    expect(formatHours(0.0123)).toBe('0.012');
  });
});
