import type { IWorkspaceFacts } from '../../../tokens';

/**
 * The example answer of GET /labworks/workspace from the contract, with an
 * image and a reachable platform, as its owner sees it.
 */
export function sampleFacts(
  overrides: Partial<IWorkspaceFacts> = {}
): IWorkspaceFacts {
  return {
    user: 'alice',
    groups: ['ml', 'vision'],
    admin: false,
    viewer: { name: 'alice', is_owner: true, access: 'owner' },
    profile: {
      name: 'cpu-small',
      display_name: 'CPU small',
      cpu_limit: 2.0,
      mem_limit: 4294967296,
      gpu_count: 0
    },
    image: {
      name: 'registry.local/labworks/minimal:2026.11',
      digest:
        'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      local: false
    },
    started_at: '2026-11-23T09:00:00+00:00',
    uptime_seconds: 3725,
    idle_cull_timeout_seconds: 3600,
    links: {
      hub_control_panel: '/hub/home',
      api_docs: '/services/labworks/api/v1/docs'
    },
    platform: { reachable: true, version: '0.1.0', error: null },
    ...overrides
  };
}
