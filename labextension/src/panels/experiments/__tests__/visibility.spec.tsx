import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsModel } from '../model';
import { ExperimentsView } from '../Panel';
import { IShared, VisibilityForm } from '../../../common/visibility';
import { VisibilityView } from '../../../common/VisibilityDialog';
import { sampleExperiment } from './sample';

const trans = nullTranslator.load('labworks');
const TARGET = { kind: 'experiments' as const, key: '7', name: 'sweep' };

function shared(patch: Partial<IShared> = {}): IShared {
  return {
    name: 'sweep',
    owner: 'alice',
    visibility: 'private',
    yours: true,
    ...patch
  };
}

describe('VisibilityForm', () => {
  it('offers only me, my groups and everyone, and saves the choice', async () => {
    const server = fakeServer(
      { body: shared() },
      { body: shared({ visibility: 'group:ml' }) }
    );
    const form = new VisibilityForm({
      target: TARGET,
      groups: ['ml', 'vision'],
      trans,
      serverSettings: server.settings
    });
    await form.load();
    expect(server.requests[0].url).toMatch(
      /\/labworks\/experiments\/7\/visibility(\?\d+)?$/
    );
    expect(form.choices.map(c => c.value)).toEqual([
      'private',
      'group:ml',
      'group:vision',
      'public'
    ]);
    expect(form.canSubmit).toBe(false); // nothing changed yet
    form.choose('group:ml');
    expect(form.canSubmit).toBe(true);
    const saved = await form.submit();
    expect(saved?.visibility).toBe('group:ml');
    expect(server.requests[1].method).toBe('PUT');
    expect(await server.requests[1].json()).toEqual({ visibility: 'group:ml' });
    expect(form.canSubmit).toBe(false);
    form.dispose();
  });

  it('keeps the current group among the choices when I left it', async () => {
    const server = fakeServer({ body: shared({ visibility: 'group:old' }) });
    const form = new VisibilityForm({
      target: TARGET,
      groups: ['ml'],
      trans,
      serverSettings: server.settings
    });
    await form.load();
    expect(form.choice).toBe('group:old');
    expect(form.choices.map(c => c.value)).toContain('group:old');
    form.dispose();
  });

  it("shows the platform's refusal and stays open", async () => {
    const server = fakeServer(
      { body: shared() },
      {
        status: 400,
        body: { error: 'bad_request', message: 'you are not in group ml' }
      }
    );
    const form = new VisibilityForm({
      target: TARGET,
      groups: ['ml'],
      trans,
      serverSettings: server.settings
    });
    await form.load();
    form.choose('group:ml');
    expect(await form.submit()).toBeNull();
    render(<VisibilityView form={form} trans={trans} />);
    expect(screen.getByRole('alert').textContent).toBe(
      'you are not in group ml'
    );
    form.dispose();
  });

  it('tells someone who does not own it that only the owner can change it', async () => {
    const server = fakeServer({
      body: shared({ owner: 'bob', visibility: 'public', yours: false })
    });
    const form = new VisibilityForm({
      target: TARGET,
      groups: [],
      trans,
      serverSettings: server.settings
    });
    await form.load();
    render(<VisibilityView form={form} trans={trans} />);
    expect(screen.getByTestId('labworks-share-now').textContent).toBe(
      'Owned by bob; every user may read it.'
    );
    expect(screen.queryByLabelText('Who may read it')).toBeNull();
    expect(
      screen.getByText('Only its owner can change who sees it.')
    ).toBeTruthy();
    expect(form.canSubmit).toBe(false);
    form.dispose();
  });
});

describe('ExperimentsView share button', () => {
  it('asks to share the experiment it stands beside', async () => {
    const server = fakeServer({
      body: { experiments: [sampleExperiment('9', 'sweep')] }
    });
    const model = new ExperimentsModel({ serverSettings: server.settings });
    await model.refresh();
    const open = jest.fn();
    const share = jest.fn();
    render(
      <ExperimentsView model={model} open={open} share={share} trans={trans} />
    );
    fireEvent.click(screen.getByTestId('labworks-experiment-share-9'));
    expect(screen.getByTestId('labworks-experiment-share-9').title).toBe(
      'Who may read sweep'
    );
    expect(share.mock.calls[0][0].experiment_id).toBe('9');
    expect(open).not.toHaveBeenCalled();
    model.dispose();
  });
});
