import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { DataModel } from '../model';
import {
  COPIED_MS,
  DatasetsView,
  IDataActions,
  shortDigest
} from '../DatasetsView';
import { DataPanel } from '../Panel';
import { sampleDataset, sampleDetail, sampleVersionDetail } from './sample';

const trans = nullTranslator.load('labworks');

function actions(): jest.Mocked<IDataActions> {
  return { copy: jest.fn(), share: jest.fn() };
}

describe('DatasetsView', () => {
  it('lists the datasets with their latest version, visibility and whose', async () => {
    const { settings } = fakeServer({
      body: {
        datasets: [
          sampleDataset('alice/iris', { visibility: 'group:ml' }),
          sampleDataset('bob/churn', {
            visibility: 'public',
            latest_version: 5
          })
        ]
      }
    });
    const model = new DataModel({ serverSettings: settings });
    await model.refresh();
    const act_ = actions();
    render(<DatasetsView model={model} actions={act_} trans={trans} />);
    const mine = screen.getByTestId('labworks-dataset-alice/iris');
    expect(mine.textContent).toContain('v2 · group ml · mine · updated');
    const theirs = screen.getByTestId('labworks-dataset-bob/churn');
    expect(theirs.textContent).toContain('v5 · public · shared by bob');
    // Only the person's own datasets can be shared from here.
    expect(screen.queryByTestId('labworks-dataset-share-bob/churn')).toBeNull();
    fireEvent.click(screen.getByTestId('labworks-dataset-share-alice/iris'));
    expect(act_.share.mock.calls[0][0].ref).toBe('alice/iris');
    model.dispose();
  });

  it('opens a dataset to its versions and files, and copies the code that reads one', async () => {
    jest.useFakeTimers();
    try {
      const { settings } = fakeServer(
        { body: { datasets: [sampleDataset()] } },
        { body: sampleDetail() },
        { body: sampleVersionDetail('alice/iris', 2) },
        { body: sampleVersionDetail('alice/iris', 1) }
      );
      const model = new DataModel({ serverSettings: settings });
      await model.refresh();
      const act_ = actions();
      const { rerender } = render(
        <DatasetsView model={model} actions={act_} trans={trans} />
      );
      const item = screen.getByTestId('labworks-dataset-alice/iris');
      expect(item.getAttribute('aria-expanded')).toBe('false');
      await act(async () => {
        fireEvent.click(item);
        await jest.runAllTimersAsync();
      });
      await waitFor(() => expect(model.version?.number).toBe(2));
      rerender(<DatasetsView model={model} actions={act_} trans={trans} />);

      const v2 = screen.getByTestId('labworks-dataset-version-2');
      expect(v2.getAttribute('aria-pressed')).toBe('true');
      expect(v2.textContent).toContain('3.0 KiB');
      expect(v2.textContent).toContain('2 files');
      expect(v2.textContent).toContain('cut 2');
      expect(v2.textContent).toContain('by alice');
      expect(v2.textContent).toContain('sha256:222222222222');
      const files = screen.getByTestId('labworks-dataset-files');
      expect(
        within(files)
          .getAllByRole('listitem')
          .map(li => li.textContent)
      ).toEqual(['test.csv512 B', 'train/part-0.csv1.0 KiB']);
      expect(screen.getByTestId('labworks-dataset-code').textContent).toBe(
        'from labworks import data\npath = data.get("alice/iris", version=2)'
      );

      fireEvent.click(screen.getByTestId('labworks-dataset-copy'));
      expect(act_.copy).toHaveBeenCalledWith(
        'from labworks import data\npath = data.get("alice/iris", version=2)'
      );
      expect(screen.getByTestId('labworks-dataset-copied').textContent).toBe(
        'Copied to the clipboard'
      );
      await act(() => jest.advanceTimersByTimeAsync(COPIED_MS));
      expect(screen.getByTestId('labworks-dataset-copied').textContent).toBe(
        ''
      );

      await act(async () => {
        fireEvent.click(screen.getByTestId('labworks-dataset-version-1'));
        await jest.runAllTimersAsync();
      });
      await waitFor(() => expect(model.version?.number).toBe(1));
      rerender(<DatasetsView model={model} actions={act_} trans={trans} />);
      expect(screen.getByTestId('labworks-dataset-code').textContent).toContain(
        'version=1'
      );
      model.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('says how to make a dataset when there is none', async () => {
    const { settings } = fakeServer({ body: { datasets: [] } });
    const model = new DataModel({ serverSettings: settings });
    await model.refresh();
    render(<DatasetsView model={model} actions={actions()} trans={trans} />);
    const empty = screen.getByTestId('labworks-data-empty');
    expect(empty.textContent).toContain('labworks datasets push NAME PATH');
    expect(empty.textContent).toContain('data.push("NAME", "PATH")');
    model.dispose();
  });

  it('filters the list and says when nothing matches', async () => {
    const { settings } = fakeServer({
      body: { datasets: [sampleDataset('alice/iris')] }
    });
    const model = new DataModel({ serverSettings: settings });
    await model.refresh();
    const { rerender } = render(
      <DatasetsView model={model} actions={actions()} trans={trans} />
    );
    fireEvent.change(
      screen.getByLabelText('Filter datasets by name or description'),
      {
        target: { value: 'mnist' }
      }
    );
    rerender(<DatasetsView model={model} actions={actions()} trans={trans} />);
    expect(screen.queryByTestId('labworks-dataset-alice/iris')).toBeNull();
    expect(screen.getByText('No dataset matches “mnist”.')).toBeTruthy();
    model.dispose();
  });

  it("shows the platform's refusal inline", async () => {
    const { settings } = fakeServer({
      status: 502,
      body: {
        error: 'platform_unreachable',
        message: 'platform service unreachable'
      }
    });
    const model = new DataModel({ serverSettings: settings });
    await model.refresh();
    render(<DatasetsView model={model} actions={actions()} trans={trans} />);
    expect(screen.getByRole('alert').textContent).toBe(
      'platform service unreachable'
    );
    model.dispose();
  });

  it('tells a reader the dataset is read-only', async () => {
    const { settings } = fakeServer(
      { body: { datasets: [sampleDataset('bob/churn')] } },
      { body: sampleDetail('bob/churn') },
      { body: sampleVersionDetail('bob/churn', 2) }
    );
    const model = new DataModel({ serverSettings: settings });
    await model.refresh();
    await model.select('bob/churn');
    render(<DatasetsView model={model} actions={actions()} trans={trans} />);
    expect(screen.getByTestId('labworks-dataset-detail').textContent).toContain(
      'Read-only: only bob can push to it or share it.'
    );
    model.dispose();
  });
});

describe('shortDigest', () => {
  it('keeps the algorithm and 12 hex digits', () => {
    expect(shortDigest(`sha256:${'ab'.repeat(32)}`)).toBe(
      'sha256:abababababab'
    );
    expect(shortDigest('0123456789abcdef')).toBe('0123456789ab');
  });
});

describe('DataPanel', () => {
  it('loads the datasets only once it is shown', async () => {
    const { settings, requests } = fakeServer({ body: { datasets: [] } });
    const model = new DataModel({ serverSettings: settings });
    const panel = new DataPanel({ model, actions: actions() });
    expect(panel.title.label).toBe('Data');
    expect(requests).toHaveLength(0);
    await act(async () => {
      Widget.attach(panel, document.body);
    });
    await waitFor(() => expect(model.loaded).toBe(true));
    expect(requests).toHaveLength(1);
    await act(async () => panel.dispose());
    model.dispose();
  });
});
