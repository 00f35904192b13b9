import type {
  IInspectResult,
  IJob,
  IJobDetail,
  IJobProfile,
  ILogChunk,
  INotifySettings,
  ISchedule
} from '../../../common/jobs/types';

/**
 * A job as GET /labworks/jobs lists it: alice's, succeeded.
 */
export function sampleJob(overrides: Partial<IJob> = {}): IJob {
  return {
    id: '4f0c2a9e81d3',
    name: 'train.ipynb',
    owner: 'alice',
    shared_with_group: null,
    status: 'succeeded',
    reason: '',
    notebook_path: 'work/train.ipynb',
    notebook_sha256: '9c1e',
    parameters: { epochs: 20 },
    profile: 'cpu-small',
    kernel_name: 'python3',
    image: '',
    environment: {
      kind: 'local',
      env_hash: 'sha256:5d2a0123456789abcdef',
      python: '3.11.2'
    },
    executor: 'local',
    timeout: 21600,
    retries: 1,
    priority: 0,
    attempt: 1,
    cancel_requested: false,
    has_output: true,
    trigger: 'api',
    schedule_id: null,
    rerun_of: null,
    created_at: '2026-11-23T10:00:00.120000Z',
    updated_at: '2026-11-23T10:00:09.870000Z',
    not_before: '2026-11-23T10:00:00.120000Z',
    started_at: '2026-11-23T10:00:00.140000Z',
    finished_at: '2026-11-23T10:00:09.870000Z',
    duration_seconds: 9.73,
    ...overrides
  };
}

/**
 * The same job with its history (GET /labworks/jobs/<id>).
 */
export function sampleDetail(overrides: Partial<IJobDetail> = {}): IJobDetail {
  return {
    ...sampleJob(),
    events: [
      {
        at: '2026-11-23T10:00:00.120000Z',
        attempt: 0,
        kind: 'queued',
        message: 'queued (api)'
      },
      {
        at: '2026-11-23T10:00:00.140000Z',
        attempt: 1,
        kind: 'running',
        message: 'attempt 1 started'
      }
    ],
    ...overrides
  };
}

/**
 * A piece of a log.
 */
export function sampleLog(overrides: Partial<ILogChunk> = {}): ILogChunk {
  return {
    job_id: '4f0c2a9e81d3',
    attempt: 1,
    offset: 0,
    next_offset: 8,
    text: 'epoch 1\n',
    complete: false,
    ...overrides
  };
}

/**
 * The parameters of train.ipynb.
 */
export function sampleInspect(
  overrides: Partial<IInspectResult> = {}
): IInspectResult {
  return {
    kernel_name: 'python3',
    language: 'python',
    has_parameters_cell: true,
    inspectable: true,
    parameters: [
      {
        name: 'epochs',
        type: 'int',
        default: 10,
        default_text: '10',
        help: 'passes over the data'
      },
      {
        name: 'rate',
        type: 'float',
        default: 0.01,
        default_text: '0.01',
        help: ''
      },
      {
        name: 'dataset',
        type: 'str',
        default: 'train',
        default_text: '"train"',
        help: ''
      },
      {
        name: 'layers',
        type: 'list',
        default: [64, 32],
        default_text: '[64, 32]',
        help: ''
      },
      {
        name: 'verbose',
        type: 'bool',
        default: false,
        default_text: 'False',
        help: ''
      }
    ],
    ...overrides
  };
}

/**
 * A schedule of alice's.
 */
export function sampleSchedule(overrides: Partial<ISchedule> = {}): ISchedule {
  return {
    id: '9b3e5f00a1c2',
    definition_id: '51aa0e9c3d7f',
    name: 'report.ipynb',
    owner: 'alice',
    shared_with_group: null,
    cron: '0 6 * * 1-5',
    timezone: 'Europe/Berlin',
    paused: false,
    next_run_at: '2026-11-24T05:00:00Z',
    last_run_at: null,
    last_status: null,
    notebook_path: 'report.ipynb',
    parameters: { region: 'emea' },
    profile: 'cpu-small',
    kernel_name: 'python3',
    timeout: 21600,
    retries: 0,
    priority: 0,
    created_at: '2026-11-23T10:00:00Z',
    updated_at: '2026-11-23T10:00:00Z',
    ...overrides
  };
}

/**
 * The path below `labworks/` and the query of a recorded request, without
 * the cache-busting number ServerConnection adds to a GET.
 */
export function where(request: Request): { path: string; query: string } {
  const url = new URL(request.url);
  const query = url.search.replace(/[?&]\d+$/, '');
  return {
    path: decodeURIComponent(url.pathname).replace(/^.*\/labworks\//, ''),
    query: query.startsWith('&') ? `?${query.slice(1)}` : query
  };
}

/**
 * The profiles of GET /labworks/profiles: two usable, a GPU one that is not.
 */
export function sampleProfiles(): IJobProfile[] {
  const base = {
    description: '',
    gpu_model: '',
    default: false,
    available: true,
    reason: null
  };
  return [
    {
      ...base,
      name: 'cpu-small',
      display_name: 'CPU small',
      description: '2 cores, 4 GiB memory: notebooks, small data.',
      cpu_limit: 2,
      mem_limit: 4 * 1024 ** 3,
      gpu_count: 0,
      default: true
    },
    {
      ...base,
      name: 'cpu-large',
      display_name: 'CPU large',
      cpu_limit: 8,
      mem_limit: 32 * 1024 ** 3,
      gpu_count: 0
    },
    {
      ...base,
      name: 'gpu-1',
      display_name: '1 GPU',
      cpu_limit: 8,
      mem_limit: 32 * 1024 ** 3,
      gpu_count: 1,
      gpu_model: 'H100',
      available: false,
      reason: 'cannot run jobs here: needs 1 GPU(s); jobs here have no GPU'
    }
  ];
}

/**
 * Notification settings as GET /labworks/jobs/notifications answers them.
 */
export function sampleNotify(
  overrides: Partial<INotifySettings> = {}
): INotifySettings {
  return {
    webhook_url: '',
    email: '',
    events: 'failed',
    email_available: true,
    ...overrides
  };
}
