import type { TranslationBundle } from '@jupyterlab/translation';

import {
  formatBytes,
  formatCores,
  formatDuration,
  shortenDigest
} from '../format';
import type { IJob, IJobEnvironment, IJobProfile, JobStatus } from './types';

/**
 * A job status in words.
 */
export function statusLabel(
  status: JobStatus,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'queued':
      return trans.__('queued');
    case 'running':
      return trans.__('running');
    case 'succeeded':
      return trans.__('succeeded');
    case 'failed':
      return trans.__('failed');
    case 'cancelled':
      return trans.__('cancelled');
    case 'timed_out':
      return trans.__('timed out');
    default:
      return status;
  }
}

/**
 * How long a job ran, or has been running at `now`.
 */
export function jobDuration(
  job: IJob,
  trans: TranslationBundle,
  now: number = Date.now()
): string {
  if (job.duration_seconds !== null) {
    return formatDuration(job.duration_seconds, trans, 2);
  }
  if (job.started_at && job.status === 'running') {
    const seconds = (now - Date.parse(job.started_at)) / 1000;
    return Number.isNaN(seconds)
      ? '—'
      : trans.__('%1 so far', formatDuration(seconds, trans, 2));
  }
  return '—';
}

/**
 * Where a job ran: the image and its digest, or the local environment's hash.
 */
export function formatEnvironment(
  env: IJobEnvironment,
  trans: TranslationBundle
): string {
  if (env.kind === 'image') {
    const image = env.image ?? '';
    const digest = env.digest ? shortenDigest(env.digest) : '';
    return [image.split('@')[0], digest].filter(Boolean).join(' @ ');
  }
  if (env.kind === 'local') {
    const parts = [trans.__('local environment')];
    if (env.env_hash) {
      parts.push(shortenDigest(env.env_hash));
    }
    if (env.python) {
      parts.push(trans.__('Python %1', env.python));
    }
    return parts.join(' · ');
  }
  return trans.__('not recorded yet');
}

/**
 * A parameter value as written in a list ("epochs=20, rate=0.1").
 */
export function formatParameters(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ');
}

/**
 * A profile in one line: "CPU small · 2 cores · 4.0 GiB · 1 GPU (H100)";
 * what is not limited is left out.
 */
export function formatProfile(
  profile: IJobProfile,
  trans: TranslationBundle
): string {
  const parts = [profile.display_name || profile.name];
  if (profile.cpu_limit !== null) {
    parts.push(formatCores(profile.cpu_limit, trans));
  }
  if (profile.mem_limit !== null) {
    parts.push(formatBytes(profile.mem_limit));
  }
  if (profile.gpu_count > 0) {
    const gpus = trans._n('%1 GPU', '%1 GPUs', profile.gpu_count);
    parts.push(profile.gpu_model ? `${gpus} (${profile.gpu_model})` : gpus);
  }
  return parts.join(' · ');
}
