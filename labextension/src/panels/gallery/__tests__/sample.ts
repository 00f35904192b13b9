import type {
  IGalleryEntry,
  IGalleryEntryDetail,
  IGalleryVersionContent
} from '../model';

/**
 * A gallery entry as GET /labworks/gallery lists it.
 */
export function sampleEntry(
  overrides: Partial<IGalleryEntry> = {}
): IGalleryEntry {
  return {
    id: 7,
    owner: 'alice',
    group: 'ml',
    name: 'focus.ipynb',
    created_at: '2026-11-20T09:00:00+00:00',
    updated_at: '2026-11-21T09:00:00+00:00',
    latest_version: 2,
    ...overrides
  };
}

/**
 * The same entry with two versions.
 */
export function sampleDetail(
  overrides: Partial<IGalleryEntryDetail> = {}
): IGalleryEntryDetail {
  return {
    ...sampleEntry(),
    versions: [
      {
        number: 1,
        sha256: 'a'.repeat(64),
        size: 700,
        message: 'first cut',
        published_at: '2026-11-20T09:00:00+00:00'
      },
      {
        number: 2,
        sha256: 'b'.repeat(64),
        size: 720,
        message: 'longer lens',
        published_at: '2026-11-21T09:00:00+00:00'
      }
    ],
    ...overrides
  };
}

/**
 * Version 2 with its notebook.
 */
export function sampleVersion(): IGalleryVersionContent {
  return {
    ...sampleDetail().versions[1],
    entry_id: 7,
    owner: 'alice',
    group: 'ml',
    name: 'focus.ipynb',
    content: {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          cell_type: 'code',
          id: 'c0',
          source: 'f = 85',
          metadata: {},
          outputs: [],
          execution_count: null
        }
      ]
    }
  };
}
