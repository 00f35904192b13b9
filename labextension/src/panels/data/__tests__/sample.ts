import type { IDataset, IDatasetVersion, IVersionDetail } from '../client';

/**
 * A version as the platform describes it.
 */
export function sampleVersion(
  number: number,
  patch: Partial<IDatasetVersion> = {}
): IDatasetVersion {
  return {
    number,
    digest: `sha256:${String(number).repeat(64)}`,
    size: 1536 * number,
    file_count: 2,
    message: `cut ${number}`,
    created_by: 'alice',
    created_at: '2026-11-23T20:00:00Z',
    ...patch
  };
}

/**
 * A dataset as the list sends it (no versions), or with `versions`.
 */
export function sampleDataset(
  ref = 'alice/iris',
  patch: Partial<IDataset> = {}
): IDataset {
  const [owner, name] = ref.split('/');
  return {
    ref,
    owner,
    name,
    description: '',
    visibility: 'private',
    yours: owner === 'alice',
    latest_version: 2,
    created_at: '2026-11-23T19:00:00Z',
    updated_at: '2026-11-23T20:00:00Z',
    versions: [],
    ...patch
  };
}

/**
 * A version with its two files.
 */
export function sampleVersionDetail(
  ref = 'alice/iris',
  number = 2
): IVersionDetail {
  return {
    ...sampleVersion(number),
    ref,
    files: [
      { path: 'test.csv', sha256: 'b'.repeat(64), size: 512 },
      { path: 'train/part-0.csv', sha256: 'c'.repeat(64), size: 1024 }
    ]
  };
}

/**
 * A dataset with versions 2 and 1, newest first.
 */
export function sampleDetail(ref = 'alice/iris'): IDataset {
  return sampleDataset(ref, { versions: [sampleVersion(2), sampleVersion(1)] });
}
