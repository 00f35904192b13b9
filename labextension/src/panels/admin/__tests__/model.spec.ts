import { fakeServer } from '../../../__tests__/fakeServer';
import { AdminModel } from '../model';
import type { IAdminGroup, IAdminUser } from '../types';

const ADA: IAdminUser = {
  name: 'ada',
  admin: true,
  groups: [],
  disabled: false,
  created_at: '2026-12-01T10:00:00Z'
};
const BOB: IAdminUser = { ...ADA, name: 'bob b', admin: false };
const ML: IAdminGroup = { name: 'ml', members: [] };

/**
 * The answers of listing users and groups after a change.
 */
function lists(users: IAdminUser[], groups: IAdminGroup[]) {
  return [{ body: { users } }, { body: { groups } }];
}

function sent(requests: Request[]): string[] {
  return requests.map(r => {
    const path = new URL(r.url).pathname.split('/labworks/')[1];
    return `${r.method} ${path}`;
  });
}

describe('AdminModel', () => {
  it('lists users and groups', async () => {
    const { settings, requests } = fakeServer(...lists([ADA, BOB], [ML]));
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.refresh()).toBe(true);

    expect(model.loaded).toBe(true);
    expect(model.users.map(u => u.name)).toEqual(['ada', 'bob b']);
    expect(model.groups).toEqual([ML]);
    expect(model.notice).toBeNull();
    expect(sent(requests)).toEqual(['GET admin/users', 'GET admin/groups']);
  });

  it('keeps the platform message of a refusal, and is not loaded', async () => {
    const { settings } = fakeServer(
      {
        status: 403,
        body: { error: 'forbidden', message: 'administrators only' }
      },
      { body: { groups: [] } }
    );
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.refresh()).toBe(false);

    expect(model.loaded).toBe(false);
    expect(model.error).toBe('administrators only');
  });

  it('creates a group and adds a member, then shows the lists again', async () => {
    const withMember = { name: 'ml', members: ['bob b'] };
    const { settings, requests } = fakeServer(
      { status: 201, body: ML },
      ...lists([ADA, BOB], [ML]),
      { body: withMember },
      ...lists([ADA, { ...BOB, groups: ['ml'] }], [withMember])
    );
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.createGroup('  ml ')).toBe(true);
    expect(model.notice).toBe('Created group ml.');
    expect(await model.addMember('ml', 'bob b')).toBe(true);

    expect(model.notice).toBe('Added bob b to ml.');
    expect(model.groups).toEqual([withMember]);
    expect(sent(requests)).toEqual([
      'POST admin/groups',
      'GET admin/users',
      'GET admin/groups',
      'PUT admin/groups/ml/members/bob%20b',
      'GET admin/users',
      'GET admin/groups'
    ]);
    expect(await requests[0].json()).toEqual({ name: 'ml' });
  });

  it('refuses a group without a name before asking the platform', async () => {
    const { settings, requests } = fakeServer();
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.createGroup('   ')).toBe(false);

    expect(model.error).toBe('Give the new group a name.');
    expect(requests).toHaveLength(0);
  });

  it('shows the platform message when a change is refused, and no notice', async () => {
    const { settings } = fakeServer({
      status: 409,
      body: { error: 'conflict', message: 'group ml exists already' }
    });
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.createGroup('ml')).toBe(false);

    expect(model.error).toBe('group ml exists already');
    expect(model.notice).toBeNull();
  });

  it('hands what a user owns to another before deleting them', async () => {
    const { settings, requests } = fakeServer(
      { body: { moved: { experiments: 2, datasets: 0, models: 1 } } },
      { status: 204 },
      ...lists([ADA], [])
    );
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.deleteUser('bob b', 'ada')).toBe(true);

    expect(sent(requests).slice(0, 2)).toEqual([
      'POST admin/users/bob%20b/transfer',
      'DELETE admin/users/bob%20b'
    ]);
    expect(await requests[0].json()).toEqual({ to: 'ada' });
    expect(model.notice).toBe(
      'Deleted bob b. Moved to ada: experiments 2, models 1.'
    );
    expect(model.users).toEqual([ADA]);
  });

  it('deletes without a transfer when nobody is chosen', async () => {
    const { settings, requests } = fakeServer(
      { status: 204 },
      ...lists([ADA], [])
    );
    const model = new AdminModel({ serverSettings: settings });

    expect(await model.deleteUser('bob b', null)).toBe(true);

    expect(sent(requests)[0]).toBe('DELETE admin/users/bob%20b');
    expect(model.notice).toBe('Deleted bob b.');
  });

  it('disables and enables, removes a member and deletes a group', async () => {
    const { settings, requests } = fakeServer(
      { body: { ...BOB, disabled: true } },
      ...lists([ADA, BOB], [ML]),
      { body: BOB },
      ...lists([ADA, BOB], [ML]),
      { status: 204 },
      ...lists([ADA, BOB], [ML]),
      { status: 204 },
      ...lists([ADA, BOB], [])
    );
    const model = new AdminModel({ serverSettings: settings });

    await model.setEnabled('bob b', false);
    expect(model.notice).toBe('Disabled bob b.');
    await model.setEnabled('bob b', true);
    expect(model.notice).toBe('Enabled bob b.');
    await model.removeMember('ml', 'bob b');
    expect(model.notice).toBe('Removed bob b from ml.');
    await model.deleteGroup('ml');
    expect(model.notice).toBe('Deleted group ml.');

    expect(sent(requests).filter(line => !line.startsWith('GET'))).toEqual([
      'POST admin/users/bob%20b/disable',
      'POST admin/users/bob%20b/enable',
      'DELETE admin/groups/ml/members/bob%20b',
      'DELETE admin/groups/ml'
    ]);
    expect(model.groups).toEqual([]);
  });
});
