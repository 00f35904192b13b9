import { fakeServer } from '../../../__tests__/fakeServer';
import { WorkspaceFactsProvider } from '../../../workspaceFacts';
import { WorkspaceModel } from '../model';
import { sampleFacts } from './sample';

describe('WorkspaceModel', () => {
  it('starts empty and fetches the facts on refresh', async () => {
    const { settings, requests } = fakeServer({ body: sampleFacts() });
    const model = new WorkspaceModel({ serverSettings: settings });
    const states: boolean[] = [];
    model.changed.connect(() => states.push(model.busy));

    expect(model.facts).toBeNull();
    await model.refresh();

    expect(new URL(requests[0].url).pathname).toMatch(/\/labworks\/workspace$/);
    expect(states).toEqual([true, false]);
    expect(model.facts?.user).toBe('alice');
    expect(model.error).toBeNull();
    expect(model.busy).toBe(false);
    model.dispose();
  });

  it('holds the error text with the HTTP status on failure', async () => {
    const { settings } = fakeServer({
      status: 503,
      body: { error: 'unavailable', message: 'Workspace facts are unavailable' }
    });
    const model = new WorkspaceModel({ serverSettings: settings });
    let emitted = 0;
    model.changed.connect(() => emitted++);

    await model.refresh();

    expect(emitted).toBe(2);
    expect(model.error).toBe('Workspace facts are unavailable (HTTP 503)');
    expect(model.facts).toBeNull();
    model.dispose();
  });

  it('keeps the last facts on failure and clears the error on success', async () => {
    const { settings } = fakeServer(
      { body: sampleFacts() },
      new Error('connection refused'),
      { body: sampleFacts({ user: 'bob' }) }
    );
    const model = new WorkspaceModel({ serverSettings: settings });

    await model.refresh();
    await model.refresh();
    expect(model.error).toBe('connection refused');
    expect(model.facts?.user).toBe('alice');

    await model.refresh();
    expect(model.error).toBeNull();
    expect(model.facts?.user).toBe('bob');
    model.dispose();
  });

  it('lets a newer refresh win over an older, slower one', async () => {
    let answerFirst: (value: { body: unknown }) => void = () => undefined;
    const first = new Promise<{ body: unknown }>(resolve => {
      answerFirst = resolve;
    });
    const { settings } = fakeServer(first, {
      body: sampleFacts({ user: 'new' })
    });
    const model = new WorkspaceModel({ serverSettings: settings });

    const older = model.refresh();
    await model.refresh();
    answerFirst({ body: sampleFacts({ user: 'old' }) });
    await older;

    expect(model.facts?.user).toBe('new');
    expect(model.busy).toBe(false);
    model.dispose();
  });

  it('counts uptime from the server uptime plus the time since it answered', async () => {
    const { settings } = fakeServer({ body: sampleFacts() });
    const model = new WorkspaceModel({ serverSettings: settings });
    expect(model.uptimeSeconds()).toBeNull();

    const before = Date.now();
    await model.refresh();
    const uptime = model.uptimeSeconds(Date.now() + 10_000) ?? 0;

    expect(uptime).toBeGreaterThanOrEqual(3725 + 10);
    expect(uptime).toBeLessThan(3725 + 10 + (Date.now() - before) / 1000 + 1);
    model.dispose();
  });

  it('falls back to started_at when the server sent no uptime', async () => {
    const facts = sampleFacts() as any;
    delete facts.uptime_seconds;
    const { settings } = fakeServer({ body: facts });
    const model = new WorkspaceModel({ serverSettings: settings });
    await model.refresh();

    const now = Date.parse('2026-11-23T10:00:30+00:00');
    expect(model.uptimeSeconds(now)).toBe(3630);
    model.dispose();
  });

  it('disconnects its listeners and ignores answers once disposed', async () => {
    const { settings } = fakeServer({ body: sampleFacts() });
    const model = new WorkspaceModel({ serverSettings: settings });
    const listener = jest.fn();
    model.changed.connect(listener);

    const pending = model.refresh();
    model.dispose();
    await pending;

    expect(listener).toHaveBeenCalledTimes(1);
    expect(model.isDisposed).toBe(true);
    expect(model.facts).toBeNull();
  });

  it('refreshes the shared facts the other panels read', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleFacts() },
      { body: sampleFacts({ groups: ['nlp'] }) }
    );
    const facts = new WorkspaceFactsProvider(settings);
    const model = new WorkspaceModel({ serverSettings: settings, facts });

    expect((await facts.facts()).groups).toEqual(['ml', 'vision']);
    await model.refresh();

    expect(model.facts?.groups).toEqual(['nlp']);
    expect((await facts.facts()).groups).toEqual(['nlp']);
    expect(requests).toHaveLength(2);
    model.dispose();
  });
});
