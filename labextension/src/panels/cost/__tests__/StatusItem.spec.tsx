import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';

import { CostMeterModel } from '../meter';
import { CostMeterItem } from '../StatusItem';
import { routedServer, summary } from './sample';

const trans = nullTranslator.load('labworks');

describe('CostMeterItem', () => {
  it('shows the meter once the summary arrives, and opens the Cost panel', async () => {
    const shown = summary();
    shown.running[0].gpu_utilization = 45;
    const { settings } = routedServer(() => ({ body: shown }));
    const model = new CostMeterModel({
      serverSettings: settings,
      pollMs: 60_000
    });
    const open = jest.fn();
    const item = new CostMeterItem({ model, trans, open });
    await act(async () => {
      Widget.attach(item, document.body);
    });
    expect(screen.queryByTestId('labworks-cost-meter')).toBeNull();

    await act(() => model.refresh());
    const meter = await waitFor(() =>
      screen.getByTestId('labworks-cost-meter')
    );
    expect(meter.textContent).toBe(
      '$0.12/h · today $1.40 · month $23.10 · GPU 45%'
    );
    expect(meter.getAttribute('title')).toContain(
      'This workspace costs $0.12 an hour'
    );

    fireEvent.click(meter);
    expect(open).toHaveBeenCalledTimes(1);
    act(() => item.dispose());
    model.dispose();
  });
});
