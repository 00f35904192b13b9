import { nullTranslator } from '@jupyterlab/translation';

import {
  formatBytes,
  formatCores,
  formatDuration,
  shortenDigest
} from '../../../common/format';
import {
  formatGpus,
  formatGroups,
  formatIdleTimeout,
  formatImageName,
  formatMemory,
  formatPlatform,
  formatVisitor
} from '../labels';

const trans = nullTranslator.load('labworks');

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [512 * 1024 ** 2, '512.0 MiB'],
    [4294967296, '4.0 GiB'],
    [1.5 * 1024 ** 4, '1.5 TiB']
  ])('%p bytes -> %p', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('shows null memory as unlimited', () => {
    expect(formatMemory(null, trans)).toBe('unlimited');
    expect(formatMemory(4294967296, trans)).toBe('4.0 GiB');
  });
});

describe('formatCores', () => {
  it.each([
    [null, 'unlimited'],
    [1, '1 core'],
    [2.0, '2 cores'],
    [0.5, '0.5 cores'],
    [1.25, '1.25 cores']
  ])('%p -> %p', (cores, text) => {
    expect(formatCores(cores, trans)).toBe(text);
  });
});

describe('formatGpus', () => {
  it('shows none for no GPU and the count otherwise', () => {
    expect(formatGpus(0, trans)).toBe('none');
    expect(formatGpus(2, trans)).toBe('2');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [12.5, '12 s'],
    [60, '1 min'],
    [3600, '1 h'],
    [3605, '1 h 5 s'],
    [3725, '1 h 2 min 5 s'],
    [5400, '1 h 30 min'],
    [90061, '1 d 1 h 1 min'],
    [-3, '0 s']
  ])('%p s -> %p', (seconds, text) => {
    expect(formatDuration(seconds, trans)).toBe(text);
  });

  it('keeps at most maxUnits units', () => {
    expect(formatDuration(3725, trans, 2)).toBe('1 h 2 min');
  });
});

describe('formatIdleTimeout', () => {
  it('reads as a sentence, or never for 0', () => {
    expect(formatIdleTimeout(3600, trans)).toBe('after 1 h of inactivity');
    expect(formatIdleTimeout(5400, trans)).toBe(
      'after 1 h 30 min of inactivity'
    );
    expect(formatIdleTimeout(0, trans)).toBe('never');
  });
});

describe('shortenDigest', () => {
  it('keeps the algorithm and 12 hex digits', () => {
    expect(shortenDigest(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe(
      'sha256:0123456789ab'
    );
  });

  it('leaves a short digest or a bare hex alone', () => {
    expect(shortenDigest('sha256:abc')).toBe('sha256:abc');
    expect(shortenDigest('0123456789abcdef')).toBe('0123456789ab');
  });
});

describe('formatImageName', () => {
  it('names the local environment, an image, or unknown', () => {
    expect(
      formatImageName({ name: null, digest: null, local: true }, trans)
    ).toBe('local environment');
    expect(
      formatImageName({ name: 'img:1', digest: null, local: false }, trans)
    ).toBe('img:1');
    expect(
      formatImageName({ name: null, digest: null, local: false }, trans)
    ).toBe('unknown');
  });
});

describe('formatPlatform', () => {
  it('shows the version when connected and the error when not', () => {
    expect(
      formatPlatform({ reachable: true, version: '0.1.0', error: null }, trans)
    ).toBe('connected v0.1.0');
    expect(
      formatPlatform({ reachable: true, version: null, error: null }, trans)
    ).toBe('connected');
    expect(
      formatPlatform(
        { reachable: false, version: null, error: 'connection refused' },
        trans
      )
    ).toBe('unreachable: connection refused');
  });
});

describe('formatGroups', () => {
  it('joins the groups or says none', () => {
    expect(formatGroups(['ml', 'vision'], trans)).toBe('ml, vision');
    expect(formatGroups([], trans)).toBe('none');
  });
});

describe('formatVisitor', () => {
  it('says nothing to the owner', () => {
    const owner = { name: 'ann', is_owner: true, access: 'owner' as const };
    expect(formatVisitor('ann', owner, trans)).toBeNull();
  });

  it.each([
    [
      'read-write' as const,
      "You are viewing ann's shared workspace as bob (read-write)"
    ],
    [
      'read-only' as const,
      "You are viewing ann's shared workspace as bob (read-only)"
    ]
  ])('names owner, visitor and %p access', (access, text) => {
    const viewer = { name: 'bob', is_owner: false, access };
    expect(formatVisitor('ann', viewer, trans)).toBe(text);
  });
});
