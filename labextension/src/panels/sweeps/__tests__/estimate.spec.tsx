import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { samplePrices } from '../../../common/__tests__/costSample';
import { JobsClient } from '../../../common/jobs/client';
import { SweepsClient } from '../client';
import { sweepEstimate } from '../estimate';
import { SweepView } from '../SweepDialog';
import { SweepForm } from '../sweepForm';
import type { IPriceList } from '../../../common/cost';

const trans = nullTranslator.load('labworks');

describe('sweepEstimate', () => {
  it('counts every trial at the expected minutes, and the parallel burn', () => {
    expect(sweepEstimate(0.4, 20, 2, 30)).toEqual({
      perHour: 0.8,
      total: 4,
      hours: 5
    });
    // More in parallel than trials: only the trials run at once.
    expect(sweepEstimate(1, 3, 8, 60)).toEqual({
      perHour: 3,
      total: 3,
      hours: 1
    });
  });

  it('gives no estimate for input that is not a count or a duration', () => {
    expect(sweepEstimate(0.4, 2.5, 1, 30)).toBeNull();
    expect(sweepEstimate(0.4, 20, 0, 30)).toBeNull();
    expect(sweepEstimate(0.4, 20, 2, 0)).toBeNull();
    expect(sweepEstimate(0.4, 20, 2, NaN)).toBeNull();
  });
});

function view(prices: IPriceList | null) {
  const server = fakeServer();
  const form = new SweepForm({
    client: new SweepsClient(server.settings),
    jobs: new JobsClient(server.settings),
    path: 'train.ipynb',
    profile: 'cpu-small',
    trans
  });
  form.set('profile', 'cpu-small');
  const draw = () => (
    <SweepView form={form} profiles={null} prices={prices} trans={trans} />
  );
  const shown = render(draw());
  form.changed.connect(() => shown.rerender(draw()));
  return { form, requests: server.requests };
}

describe('the Sweep dialog’s price and estimate', () => {
  it('shows the profile’s price and what the whole sweep may cost', () => {
    const { form, requests } = view(samplePrices());
    expect(screen.getByTestId('labworks-profile-price').textContent).toBe(
      '$0.40/h'
    );
    const estimate = () =>
      screen.getByTestId('labworks-sweep-estimate').textContent;
    expect(estimate()).toContain(
      'About $4.00 for 20 trials of 30 min each on cpu-small ($0.40/h a trial); $0.80/h while 2 run at once, for about 5 h.'
    );
    fireEvent.change(screen.getByLabelText('Minutes a trial takes'), {
      target: { value: '90' }
    });
    expect(estimate()).toContain('About $12.00 for 20 trials of 90 min');
    act(() => {
      form.set('profile', 'cpu-large');
      form.set('parallel', '4');
    });
    expect(estimate()).toContain('About $75.00 for 20 trials of 90 min');
    expect(estimate()).toContain('$10.00/h while 4 run at once');
    act(() => form.set('trials', 'many'));
    expect(estimate()).toContain('Give whole numbers');
    expect(requests).toHaveLength(0); // the estimate asks nothing
    form.dispose();
  });

  it('shows no price and no estimate without prices', () => {
    const { form } = view(null);
    expect(screen.queryByTestId('labworks-profile-price')).toBeNull();
    expect(screen.queryByTestId('labworks-sweep-estimate')).toBeNull();
    form.dispose();
  });
});
