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

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { IWorkspaceFacts } from '../../../tokens';
import { WorkspaceModel } from '../model';
import { WorkspacePanel, WorkspaceView } from '../Panel';
import { sampleFacts } from './sample';

const trans = nullTranslator.load('labworks');

async function loadedModel(
  ...answers: (IFakeAnswer | Error)[]
): Promise<WorkspaceModel> {
  const { settings } = fakeServer(...answers);
  const model = new WorkspaceModel({ serverSettings: settings });
  await model.refresh();
  return model;
}

function fact(key: string): string {
  return screen.getByTestId(`labworks-fact-${key}`).textContent ?? '';
}

describe('WorkspaceView', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('shows the facts as a person reads them', async () => {
    const model = await loadedModel({ body: sampleFacts() });
    render(<WorkspaceView model={model} trans={trans} />);

    expect(screen.getByTestId('labworks-workspace-panel')).toBeTruthy();
    expect(fact('owner')).toBe('alice (you)');
    expect(fact('groups')).toBe('ml, vision');
    expect(fact('role')).toBe('user');
    expect(screen.queryByTestId('labworks-workspace-visitor')).toBeNull();
    expect(fact('profile')).toBe('CPU small (cpu-small)');
    expect(fact('cpu')).toBe('2 cores');
    expect(fact('memory')).toBe('4.0 GiB');
    expect(fact('gpus')).toBe('none');
    expect(fact('image')).toBe(
      'registry.local/labworks/minimal:2026.11 sha256:0123456789ab'
    );
    expect(fact('uptime')).toBe('1 h 2 min 5 s');
    expect(fact('idle')).toBe('after 1 h of inactivity');
    expect(fact('platform')).toBe('connected v0.1.0');

    const digest = within(screen.getByTestId('labworks-fact-image')).getByText(
      'sha256:0123456789ab'
    );
    expect(digest.getAttribute('title')).toBe(sampleFacts().image.digest);
    expect(screen.getByText('Owner').tagName).toBe('DT');
    expect(screen.getByText('Groups').tagName).toBe('DT');
  });

  it('tells a visitor whose workspace it is and who they are', async () => {
    const facts = sampleFacts({
      user: 'admin',
      groups: [],
      admin: true,
      viewer: { name: 'alice', is_owner: false, access: 'read-write' }
    });
    const model = await loadedModel({ body: facts });
    render(<WorkspaceView model={model} trans={trans} />);

    expect(screen.getByTestId('labworks-workspace-visitor').textContent).toBe(
      "You are viewing admin's shared workspace as alice (read-write)"
    );
    expect(fact('owner')).toBe('admin');
    expect(fact('groups')).toBe('none');
    expect(fact('role')).toBe('admin');
    expect(screen.getByText("Owner's groups").tagName).toBe('DT');
    expect(screen.getByText("Owner's role").tagName).toBe('DT');
    expect(screen.queryByText('alice (you)')).toBeNull();
  });

  it('says when a visitor may only read', async () => {
    const facts = sampleFacts({
      user: 'admin',
      viewer: { name: 'bob', is_owner: false, access: 'read-only' }
    });
    const model = await loadedModel({ body: facts });
    render(<WorkspaceView model={model} trans={trans} />);

    expect(screen.getByTestId('labworks-workspace-visitor').textContent).toBe(
      "You are viewing admin's shared workspace as bob (read-only)"
    );
  });

  it('links to the hub control panel and the API docs in a new tab', async () => {
    const model = await loadedModel({ body: sampleFacts() });
    render(<WorkspaceView model={model} trans={trans} />);

    const hub = screen.getByRole('link', { name: 'Hub control panel' });
    const docs = screen.getByRole('link', { name: 'API docs' });
    expect(hub.getAttribute('href')).toBe('/hub/home');
    expect(hub.getAttribute('target')).toBe('_blank');
    expect(docs.getAttribute('href')).toBe('/services/labworks/api/v1/docs');
    expect(docs.getAttribute('target')).toBe('_blank');
  });

  it('shows the local environment, limits off and an unreachable platform', async () => {
    const facts: IWorkspaceFacts = sampleFacts({
      groups: [],
      admin: true,
      profile: {
        name: 'gpu',
        display_name: 'GPU large',
        cpu_limit: null,
        mem_limit: null,
        gpu_count: 2
      },
      image: { name: null, digest: null, local: true },
      idle_cull_timeout_seconds: 0,
      platform: { reachable: false, version: null, error: 'timed out' }
    });
    const model = await loadedModel({ body: facts });
    render(<WorkspaceView model={model} trans={trans} />);

    expect(fact('groups')).toBe('none');
    expect(fact('role')).toBe('admin');
    expect(fact('cpu')).toBe('unlimited');
    expect(fact('memory')).toBe('unlimited');
    expect(fact('gpus')).toBe('2');
    expect(fact('image')).toBe('local environment');
    expect(fact('idle')).toBe('never');
    expect(fact('platform')).toBe('unreachable: timed out');
  });

  it('ticks the uptime every second', async () => {
    const model = await loadedModel({ body: sampleFacts() });
    jest.useFakeTimers({ now: Date.now() });
    render(<WorkspaceView model={model} trans={trans} />);
    expect(fact('uptime')).toBe('1 h 2 min 5 s');

    act(() => {
      jest.advanceTimersByTime(2000);
    });

    expect(fact('uptime')).toBe('1 h 2 min 7 s');
  });

  it('shows a loading state before the first answer', () => {
    const model = new WorkspaceModel({
      serverSettings: fakeServer().settings
    });
    render(<WorkspaceView model={model} trans={trans} />);

    expect(screen.getByText('Loading workspace facts…')).toBeTruthy();
    expect(screen.queryByTestId('labworks-fact-owner')).toBeNull();
  });

  it('shows the error text and retries', async () => {
    const model = await loadedModel(
      {
        status: 500,
        body: { error: 'internal', message: 'Could not read the profile' }
      },
      { body: sampleFacts() }
    );
    const { rerender } = render(<WorkspaceView model={model} trans={trans} />);

    expect(screen.getByRole('alert').textContent).toContain(
      'Could not read the profile (HTTP 500)'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(model.facts).not.toBeNull());
    rerender(<WorkspaceView model={model} trans={trans} />);

    expect(screen.queryByRole('alert')).toBeNull();
    expect(fact('owner')).toBe('alice (you)');
  });
});

describe('WorkspacePanel', () => {
  it('loads when shown, refreshes on its button and re-renders', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleFacts() },
      { body: { owner: 'alice', url: '/user/alice/lab', shares: [] } },
      { body: sampleFacts({ user: 'bob' }) }
    );
    const model = new WorkspaceModel({ serverSettings: settings });
    const panel = new WorkspacePanel({ model });
    expect(panel.title.label).toBe('Workspace');

    act(() => Widget.attach(panel, document.body));
    const view = within(panel.node);
    await waitFor(() =>
      expect(view.getByTestId('labworks-fact-owner').textContent).toBe(
        'alice (you)'
      )
    );

    const button = view.getByRole('button', {
      name: 'Refresh workspace facts'
    });
    expect(button.tagName).toBe('BUTTON');
    fireEvent.click(button);
    await waitFor(() =>
      expect(view.getByTestId('labworks-fact-owner').textContent).toBe(
        'bob (you)'
      )
    );
    expect(requests.map(r => new URL(r.url).pathname.split('/').pop())).toEqual(
      ['workspace', 'shares', 'workspace']
    );

    act(() => panel.dispose());
    model.dispose();
  });

  it("does not ask a visitor's lab for the owner's sharing list", async () => {
    const { settings, requests } = fakeServer({
      body: sampleFacts({
        user: 'admin',
        viewer: { name: 'alice', is_owner: false, access: 'read-write' }
      })
    });
    const model = new WorkspaceModel({ serverSettings: settings });
    const panel = new WorkspacePanel({ model });

    act(() => Widget.attach(panel, document.body));
    const view = within(panel.node);
    await waitFor(() =>
      expect(view.getByTestId('labworks-sharing-owner-only').textContent).toBe(
        'Only admin, who owns this workspace, can see and change whom it is shared with.'
      )
    );
    expect(view.queryByRole('button', { name: 'Share workspace' })).toBeNull();
    expect(requests.map(r => new URL(r.url).pathname.split('/').pop())).toEqual(
      ['workspace']
    );

    act(() => panel.dispose());
    model.dispose();
  });

  it('stops listening to the model once disposed', async () => {
    const { settings } = fakeServer({ body: sampleFacts() });
    const model = new WorkspaceModel({ serverSettings: settings });
    const panel = new WorkspacePanel({ model });
    const update = jest.spyOn(panel, 'update');

    act(() => panel.dispose());
    await model.refresh();

    expect(update).not.toHaveBeenCalled();
    model.dispose();
  });
});
