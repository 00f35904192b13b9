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
import { GalleryModel } from '../model';
import { GalleryPanel, GalleryView, IGalleryActions } from '../Panel';
import { sampleDetail, sampleEntry } from './sample';

const trans = nullTranslator.load('labworks');

function actions(): jest.Mocked<Required<IGalleryActions>> {
  return {
    open: jest.fn(),
    copy: jest.fn(),
    diff: jest.fn(),
    publish: jest.fn()
  };
}

describe('GalleryView', () => {
  it('lists entries; an entry opens to its versions with open, copy and diff', async () => {
    const { settings } = fakeServer(
      { body: { entries: [sampleEntry()] } },
      { body: sampleDetail() }
    );
    const model = new GalleryModel({ serverSettings: settings });
    await model.refresh();
    const act_ = actions();
    const { rerender } = render(
      <GalleryView model={model} actions={act_} user="bob" trans={trans} />
    );
    const entry = screen.getByTestId('labworks-gallery-entry-7');
    expect(entry.textContent).toContain('focus.ipynb');
    expect(entry.textContent).toContain('ml · by alice · v2');

    fireEvent.click(within(entry).getByRole('button', { expanded: false }));
    await waitFor(() => expect(model.selected?.id).toBe(7));
    rerender(
      <GalleryView model={model} actions={act_} user="bob" trans={trans} />
    );

    const v1 = screen.getByTestId('labworks-gallery-version-1');
    expect(v1.textContent).toContain('first cut');
    fireEvent.click(
      within(v1).getByRole('button', { name: 'Open version 1 read-only' })
    );
    expect(act_.open).toHaveBeenCalledWith(
      expect.objectContaining({ id: 7 }),
      1
    );
    fireEvent.click(
      within(v1).getByRole('button', {
        name: 'Copy version 1 to the workspace'
      })
    );
    expect(act_.copy).toHaveBeenCalledWith(
      expect.objectContaining({ id: 7 }),
      1
    );

    // Compare defaults to the last two versions.
    fireEvent.click(screen.getByRole('button', { name: 'Show diff' }));
    expect(act_.diff).toHaveBeenCalledWith(
      expect.objectContaining({ id: 7 }),
      1,
      2
    );
    // Not the owner: no delete button.
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();
    model.dispose();
  });

  it('lets the owner delete an entry', async () => {
    const { settings, requests } = fakeServer(
      { body: { entries: [sampleEntry()] } },
      { body: sampleDetail() },
      { status: 204 },
      { body: { entries: [] } }
    );
    const model = new GalleryModel({ serverSettings: settings });
    await model.refresh();
    await model.select(7);
    render(
      <GalleryView
        model={model}
        actions={actions()}
        user="alice"
        trans={trans}
      />
    );

    fireEvent.click(
      screen.getByRole('button', {
        name: 'Delete focus.ipynb from the gallery'
      })
    );

    await waitFor(() => expect(model.entries).toEqual([]));
    expect(requests[2].method).toBe('DELETE');
    model.dispose();
  });

  it('explains an empty gallery and shows errors', async () => {
    const { settings } = fakeServer(
      { body: { entries: [] } },
      {
        status: 502,
        body: {
          error: 'platform_unreachable',
          message: 'platform service unreachable'
        }
      }
    );
    const model = new GalleryModel({ serverSettings: settings });
    await model.refresh();
    const act_ = actions();
    const { rerender } = render(
      <GalleryView model={model} actions={act_} user={null} trans={trans} />
    );
    expect(screen.getByText(/No notebooks in your groups/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Publish notebook' }));
    expect(act_.publish).toHaveBeenCalled();

    await model.refresh();
    rerender(
      <GalleryView model={model} actions={act_} user={null} trans={trans} />
    );
    expect(screen.getByRole('alert').textContent).toBe(
      'platform service unreachable'
    );
    model.dispose();
  });
});

describe('GalleryPanel', () => {
  it('loads when shown and re-renders on changes', async () => {
    const { settings, requests } = fakeServer({
      body: { entries: [sampleEntry()] }
    });
    const model = new GalleryModel({ serverSettings: settings });
    const panel = new GalleryPanel({ model, actions: actions() });
    expect(panel.title.label).toBe('Gallery');

    act(() => Widget.attach(panel, document.body));

    await waitFor(() =>
      expect(
        within(panel.node).getByTestId('labworks-gallery-entry-7')
      ).toBeTruthy()
    );
    expect(requests).toHaveLength(1);
    act(() => panel.dispose());
    model.dispose();
  });
});
