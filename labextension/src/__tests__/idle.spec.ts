import {
  IIdleNotifier,
  IIdleStatus,
  IdleWatcher,
  formatLeft,
  nextCheck
} from '../idle';
import { fakeServer } from './fakeServer';

function status(overrides: Partial<IIdleStatus> = {}): IIdleStatus {
  return {
    timeout: 600,
    idle_seconds: 0,
    seconds_left: 600,
    busy_kernels: 0,
    warn_before: 150,
    ...overrides
  };
}

class RecordingNotifier implements IIdleNotifier {
  shown: string[] = [];
  keep: (() => void) | null = null;
  cleared = 0;
  warn(message: string, keepRunning: () => void): void {
    this.shown.push(`warn: ${message}`);
    this.keep = keepRunning;
  }
  stopped(message: string): void {
    this.shown.push(`stopped: ${message}`);
  }
  clear(): void {
    this.cleared++;
  }
}

describe('nextCheck', () => {
  it('checks just in time for the warning window, at most every 30 s', () => {
    expect(nextCheck(status({ seconds_left: 600 }))).toBe(30);
    expect(nextCheck(status({ seconds_left: 160 }))).toBe(10);
  });
  it('checks often inside the window and rarely when it never stops', () => {
    expect(nextCheck(status({ seconds_left: 100 }))).toBe(5);
    expect(nextCheck(status({ seconds_left: 1 }))).toBe(1);
    expect(nextCheck(status({ seconds_left: null, timeout: null }))).toBe(60);
  });
});

describe('formatLeft', () => {
  it('uses seconds under a minute and minutes above', () => {
    expect(formatLeft(42.4)).toBe('42 s');
    expect(formatLeft(-3)).toBe('0 s');
    expect(formatLeft(290)).toBe('5 min');
  });
});

describe('IdleWatcher', () => {
  let watchers: IdleWatcher[] = [];
  afterEach(() => {
    watchers.forEach(w => w.dispose());
    watchers = [];
  });

  function watcher(
    answers: Parameters<typeof fakeServer>,
    target = new EventTarget(),
    now = () => 1_000_000
  ) {
    const { settings, requests } = fakeServer(...answers);
    const notifier = new RecordingNotifier();
    const w = new IdleWatcher({
      serverSettings: settings,
      notifier,
      target,
      now
    });
    watchers.push(w);
    return { w, notifier, requests, target };
  }

  it('stays quiet while the stop is far away', async () => {
    const { w, notifier, requests } = watcher([{ body: status() }]);
    await w.check();
    expect(new URL(requests[0].url).pathname).toMatch(
      /\/labworks\/workspace\/idle$/
    );
    expect(notifier.shown).toEqual([]);
  });

  it('warns inside the window and "Keep running" posts activity and clears it', async () => {
    const { w, notifier, requests } = watcher([
      { body: status({ idle_seconds: 500, seconds_left: 100 }) },
      { body: status() }
    ]);
    await w.check();
    expect(notifier.shown).toEqual([
      'warn: This workspace is idle and stops in about 2 min to save cost. Your files are kept.'
    ]);
    await w.keepRunning();
    expect(requests[1].method).toBe('POST');
    expect(new URL(requests[1].url).pathname).toMatch(
      /\/labworks\/workspace\/activity$/
    );
    expect(notifier.cleared).toBe(1);
  });

  it('does not warn while a kernel is at work', async () => {
    const { w, notifier } = watcher([
      { body: status({ seconds_left: 5, busy_kernels: 1 }) }
    ]);
    await w.check();
    expect(notifier.shown).toEqual([]);
  });

  it('says the workspace stopped when it cannot be reached after a warning', async () => {
    const { w, notifier } = watcher([
      { body: status({ seconds_left: 3 }) },
      new Error('connection refused')
    ]);
    await w.check();
    await w.check();
    expect(notifier.shown[1]).toMatch(/^stopped: This workspace stopped/);
  });

  it('reports a person at most once per tenth of the idle time', async () => {
    let clock = 1_000_000;
    const target = new EventTarget();
    const { w, requests } = watcher(
      [{ body: status() }, { body: status() }, { body: status() }],
      target,
      () => clock
    );
    await w.check();
    target.dispatchEvent(new Event('keydown'));
    target.dispatchEvent(new Event('pointerdown'));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(requests.map(r => r.method)).toEqual(['GET', 'POST']);
    clock += 61_000;
    target.dispatchEvent(new Event('wheel'));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(requests.map(r => r.method)).toEqual(['GET', 'POST', 'POST']);
  });

  it('stops listening once disposed', async () => {
    const target = new EventTarget();
    const { w, requests } = watcher([{ body: status() }], target);
    await w.check();
    w.dispose();
    target.dispatchEvent(new Event('keydown'));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(requests).toHaveLength(1);
    expect(w.isDisposed).toBe(true);
  });
});
