import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsModel } from '../model';
import { ExperimentsView, SEARCH_DELAY_MS } from '../Panel';
import { sampleExperiment } from './sample';

const trans = nullTranslator.load('labworks');

describe('ExperimentsView', () => {
  it('lists the experiments and opens one', async () => {
    const server = fakeServer({
      body: {
        experiments: [
          sampleExperiment('7', 'users/alice'),
          sampleExperiment('9', 'sweep')
        ]
      }
    });
    const model = new ExperimentsModel({ serverSettings: server.settings });
    await model.refresh();
    const open = jest.fn();
    render(
      <ExperimentsView
        model={model}
        open={open}
        share={jest.fn()}
        trans={trans}
      />
    );
    fireEvent.click(screen.getByTestId('labworks-experiment-9'));
    expect(open.mock.calls[0][0].name).toBe('sweep');
    expect(screen.getByTestId('labworks-experiment-7').textContent).toContain(
      'users/alice'
    );
    model.dispose();
  });

  it('searches by name once typing pauses, and says when nothing matches', async () => {
    jest.useFakeTimers();
    try {
      const server = fakeServer({ body: {} }, { body: {} });
      const model = new ExperimentsModel({ serverSettings: server.settings });
      await model.refresh();
      const { rerender } = render(
        <ExperimentsView
          model={model}
          open={jest.fn()}
          share={jest.fn()}
          trans={trans}
        />
      );
      expect(screen.getByText(/No experiments yet/)).toBeTruthy();
      fireEvent.change(screen.getByLabelText('Search experiments by name'), {
        target: { value: 'swe' }
      });
      expect(server.requests).toHaveLength(1);
      await act(() => jest.advanceTimersByTimeAsync(SEARCH_DELAY_MS));
      expect((await server.requests[1].json()).filter).toBe(
        "name ILIKE '%swe%'"
      );
      rerender(
        <ExperimentsView
          model={model}
          open={jest.fn()}
          share={jest.fn()}
          trans={trans}
        />
      );
      expect(screen.getByText('No experiment matches “swe”.')).toBeTruthy();
      model.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('shows why the list failed', async () => {
    const server = fakeServer({
      status: 502,
      body: {
        error: 'tracking_unreachable',
        message: 'tracking server unreachable'
      }
    });
    const model = new ExperimentsModel({ serverSettings: server.settings });
    await model.refresh();
    render(
      <ExperimentsView
        model={model}
        open={jest.fn()}
        share={jest.fn()}
        trans={trans}
      />
    );
    expect(screen.getByRole('alert').textContent).toBe(
      'tracking server unreachable'
    );
    model.dispose();
  });
});
