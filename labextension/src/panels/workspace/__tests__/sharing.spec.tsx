import { nullTranslator } from '@jupyterlab/translation';
import {
  acceptDialog,
  dismissDialog,
  waitForDialog
} from '@jupyterlab/testutils';
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
import { ShareForm, shareWorkspace, SharingSection } from '../Sharing';
import { IShareList, SharingModel } from '../sharing';

const trans = nullTranslator.load('labworks');

function shareList(...shares: ['user' | 'group', string][]): IShareList {
  return {
    owner: 'alice',
    url: '/user/alice/lab',
    shares: shares.map(([kind, name]) => ({
      kind,
      name,
      created_at: '2026-11-23T10:00:00Z'
    }))
  };
}

function path(request: Request): string {
  return decodeURIComponent(new URL(request.url).pathname);
}

describe('SharingModel', () => {
  it('lists the shares and the absolute address to open', async () => {
    const { settings, requests } = fakeServer({
      body: shareList(['user', 'bob'], ['group', 'ml'])
    });
    const model = new SharingModel({ serverSettings: settings });
    expect(model.loaded).toBe(false);

    expect(await model.refresh()).toBe(true);

    expect(path(requests[0])).toMatch(/\/labworks\/shares$/);
    expect(model.shares.map(s => `${s.kind}:${s.name}`)).toEqual([
      'user:bob',
      'group:ml'
    ]);
    expect(model.url).toBe(`${window.location.origin}/user/alice/lab`);
    expect(model.loaded).toBe(true);
    model.dispose();
  });

  it('shares with a user, remembers it and reloads the list', async () => {
    const { settings, requests } = fakeServer(
      {
        status: 201,
        body: {
          kind: 'user',
          name: 'bob',
          created_at: null,
          url: '/user/alice/lab'
        }
      },
      { body: shareList(['user', 'bob']) }
    );
    const model = new SharingModel({ serverSettings: settings });

    expect(await model.share('user', '  bob ')).toBe(true);

    expect(requests[0].method).toBe('POST');
    expect(await requests[0].json()).toEqual({ user: 'bob' });
    expect(model.lastShared?.name).toBe('bob');
    expect(model.shares).toHaveLength(1);
    expect(model.error).toBeNull();
    model.dispose();
  });

  it('keeps the server message when sharing fails', async () => {
    const { settings } = fakeServer({
      status: 404,
      body: { error: 'not_found', message: "no such user: 'ghost'" }
    });
    const model = new SharingModel({ serverSettings: settings });

    expect(await model.share('user', 'ghost')).toBe(false);

    expect(model.error).toBe("no such user: 'ghost'");
    expect(model.busy).toBe(false);
    expect(model.lastShared).toBeNull();
    model.dispose();
  });

  it('revokes with DELETE on the kind and escaped name', async () => {
    const { settings, requests } = fakeServer(
      { status: 204 },
      { body: shareList() }
    );
    const model = new SharingModel({ serverSettings: settings });

    expect(await model.revoke('group', 'ml/vision')).toBe(true);

    expect(requests[0].method).toBe('DELETE');
    expect(new URL(requests[0].url).pathname).toMatch(
      /\/labworks\/shares\/group\/ml%2Fvision$/
    );
    expect(model.shares).toEqual([]);
    model.dispose();
  });
});

describe('SharingSection', () => {
  it('shows who it is shared with and revokes a row', async () => {
    const { settings, requests } = fakeServer(
      { body: shareList(['user', 'bob'], ['group', 'ml']) },
      { status: 204 },
      { body: shareList(['group', 'ml']) }
    );
    const model = new SharingModel({ serverSettings: settings });
    await model.refresh();
    const onShare = jest.fn();
    const { rerender } = render(
      <SharingSection model={model} trans={trans} onShare={onShare} />
    );

    const bob = screen.getByTestId('labworks-share-user-bob');
    expect(bob.textContent).toContain('bob');
    expect(screen.getByTestId('labworks-share-group-ml').textContent).toContain(
      'group'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Share workspace' }));
    expect(onShare).toHaveBeenCalledTimes(1);

    fireEvent.click(
      within(bob).getByRole('button', { name: 'Revoke access of user bob' })
    );
    await waitFor(() => expect(model.shares).toHaveLength(1));
    rerender(<SharingSection model={model} trans={trans} onShare={onShare} />);

    expect(requests[1].method).toBe('DELETE');
    expect(screen.queryByTestId('labworks-share-user-bob')).toBeNull();
    model.dispose();
  });

  it('says when it is shared with nobody and shows the address after sharing', async () => {
    const { settings } = fakeServer(
      { body: shareList() },
      {
        status: 201,
        body: {
          kind: 'group',
          name: 'ml',
          created_at: null,
          url: '/user/alice/lab'
        }
      },
      { body: shareList(['group', 'ml']) }
    );
    const model = new SharingModel({ serverSettings: settings });
    await model.refresh();
    const { rerender } = render(
      <SharingSection model={model} trans={trans} onShare={() => undefined} />
    );
    expect(screen.getByText('Not shared with anyone.')).toBeTruthy();

    await model.share('group', 'ml');
    rerender(
      <SharingSection model={model} trans={trans} onShare={() => undefined} />
    );

    const notice = screen.getByTestId('labworks-shared-url');
    expect(notice.textContent).toContain('Shared with group ml');
    expect(within(notice).getByRole('link').getAttribute('href')).toBe(
      `${window.location.origin}/user/alice/lab`
    );
    expect(screen.queryByText('Not shared with anyone.')).toBeNull();
    model.dispose();
  });

  it('shows the error of a refused request', async () => {
    const { settings } = fakeServer({
      status: 403,
      body: {
        error: 'forbidden',
        message: 'only alice, who owns this workspace'
      }
    });
    const model = new SharingModel({ serverSettings: settings });
    await model.refresh();
    render(
      <SharingSection model={model} trans={trans} onShare={() => undefined} />
    );

    expect(screen.getByRole('alert').textContent).toBe(
      'only alice, who owns this workspace'
    );
    model.dispose();
  });
});

describe('the share dialog', () => {
  it('returns the kind and the trimmed name', () => {
    const form = new ShareForm(trans);
    const [kind] = Array.from(form.node.querySelectorAll('select'));
    const [name] = Array.from(form.node.querySelectorAll('input'));
    kind.value = 'group';
    name.value = '  ml-team ';
    expect(form.getValue()).toEqual({ kind: 'group', name: 'ml-team' });
    form.dispose();
  });

  it('shares with the person typed in when accepted', async () => {
    const { settings, requests } = fakeServer(
      {
        status: 201,
        body: {
          kind: 'user',
          name: 'bob',
          created_at: null,
          url: '/user/alice/lab'
        }
      },
      { body: shareList(['user', 'bob']) }
    );
    const model = new SharingModel({ serverSettings: settings });

    let shared!: Promise<boolean>;
    await act(async () => {
      shared = shareWorkspace(model, trans);
      await waitForDialog();
    });
    const input = document.querySelector(
      '.jp-Dialog .jp-Labworks-shareName'
    ) as HTMLInputElement;
    input.value = 'bob';
    await act(() => acceptDialog());

    expect(await shared).toBe(true);
    expect(await requests[0].json()).toEqual({ user: 'bob' });
    model.dispose();
  });

  it('does nothing when cancelled', async () => {
    const { settings, requests } = fakeServer();
    const model = new SharingModel({ serverSettings: settings });

    let shared!: Promise<boolean>;
    await act(async () => {
      shared = shareWorkspace(model, trans);
      await waitForDialog();
    });
    await act(() => dismissDialog());

    expect(await shared).toBe(false);
    expect(requests).toHaveLength(0);
    model.dispose();
  });
});
