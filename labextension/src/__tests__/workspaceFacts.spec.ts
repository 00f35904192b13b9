import { sampleFacts } from '../panels/workspace/__tests__/sample';
import { IWorkspaceFactsProvider } from '../tokens';
import {
  WorkspaceFactsProvider,
  workspaceFactsPlugin
} from '../workspaceFacts';
import { fakeServer } from './fakeServer';

describe('WorkspaceFactsProvider', () => {
  it('asks the server once and shares the answer', async () => {
    const { settings, requests } = fakeServer({ body: sampleFacts() });
    const provider = new WorkspaceFactsProvider(settings);

    const [first, second] = await Promise.all([
      provider.facts(),
      provider.facts()
    ]);
    const third = await provider.facts();

    expect(requests).toHaveLength(1);
    expect(new URL(requests[0].url).pathname).toMatch(/labworks\/workspace$/);
    expect(first.user).toBe('alice');
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it('shares the answer of a refresh', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleFacts() },
      { body: sampleFacts({ groups: ['ml', 'vision', 'nlp'] }) }
    );
    const provider = new WorkspaceFactsProvider(settings);
    await provider.facts();

    await provider.refresh();

    expect((await provider.facts()).groups).toEqual(['ml', 'vision', 'nlp']);
    expect(requests).toHaveLength(2);
  });

  it('asks again after a failure, and keeps good facts when a refresh fails', async () => {
    const { settings, requests } = fakeServer(
      new Error('connection refused'),
      { body: sampleFacts() },
      new Error('connection refused')
    );
    const provider = new WorkspaceFactsProvider(settings);

    await expect(provider.facts()).rejects.toThrow('connection refused');
    expect((await provider.facts()).user).toBe('alice');
    await expect(provider.refresh()).rejects.toThrow('connection refused');
    expect((await provider.facts()).user).toBe('alice');
    expect(requests).toHaveLength(3);
  });

  it('lets a newer refresh win over an older, slower one', async () => {
    let answerFirst: (value: { body: unknown }) => void = () => undefined;
    const first = new Promise<{ body: unknown }>(resolve => {
      answerFirst = resolve;
    });
    const { settings } = fakeServer(first, {
      body: sampleFacts({ user: 'new' })
    });
    const provider = new WorkspaceFactsProvider(settings);

    const older = provider.refresh();
    await provider.refresh();
    answerFirst({ body: sampleFacts({ user: 'old' }) });
    expect((await older).user).toBe('old');

    expect((await provider.facts()).user).toBe('new');
  });
});

describe('workspaceFactsPlugin', () => {
  it('provides one provider on the lab server settings', async () => {
    const { settings, requests } = fakeServer({ body: sampleFacts() });
    const app = { serviceManager: { serverSettings: settings } } as any;

    const provider = await workspaceFactsPlugin.activate(app);

    expect(workspaceFactsPlugin.provides).toBe(IWorkspaceFactsProvider);
    expect((await provider.facts()).user).toBe('alice');
    expect(requests).toHaveLength(1);
  });
});
