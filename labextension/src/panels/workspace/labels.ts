import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  IGpuDevice,
  IPlatformStatus,
  IWorkspaceImage,
  IWorkspaceViewer
} from '../../tokens';
import { formatBytes, formatDuration } from '../../common/format';

/**
 * Pure helpers turning workspace facts into text a person reads.
 *
 * Each takes the translation bundle so that every word can be translated.
 */

/**
 * A memory limit: bytes, or "unlimited" for `null`.
 */
export function formatMemory(
  bytes: number | null,
  trans: TranslationBundle
): string {
  return bytes === null ? trans.__('unlimited') : formatBytes(bytes);
}

/**
 * A GPU count, or "none" for 0.
 */
export function formatGpus(count: number, trans: TranslationBundle): string {
  return count > 0 ? String(count) : trans.__('none');
}

/**
 * The idle shutdown policy: "after 1 h of inactivity", or "never" for 0.
 */
export function formatIdleTimeout(
  seconds: number,
  trans: TranslationBundle
): string {
  if (seconds <= 0) {
    return trans.__('never');
  }
  return trans.__('after %1 of inactivity', formatDuration(seconds, trans));
}

/**
 * The image's name as displayed: "local environment", the reference, or
 * "unknown" when a non-local workspace did not report one.
 */
export function formatImageName(
  image: IWorkspaceImage,
  trans: TranslationBundle
): string {
  if (image.local) {
    return trans.__('local environment');
  }
  return image.name || trans.__('unknown');
}

/**
 * The platform status: "connected v0.1.0", or "unreachable: <error>".
 */
export function formatPlatform(
  platform: IPlatformStatus,
  trans: TranslationBundle
): string {
  if (platform.reachable) {
    return platform.version
      ? trans.__('connected v%1', platform.version)
      : trans.__('connected');
  }
  return platform.error
    ? trans.__('unreachable: %1', platform.error)
    : trans.__('unreachable');
}

/**
 * The groups, comma separated, or "none".
 */
export function formatGroups(
  groups: string[],
  trans: TranslationBundle
): string {
  return groups.length > 0 ? groups.join(', ') : trans.__('none');
}

/**
 * One GPU as a line: "NVIDIA H100 · 12.0 GiB of 80.0 GiB · 37% busy".
 */
export function formatGpuDevice(
  gpu: IGpuDevice,
  trans: TranslationBundle
): string {
  return trans.__(
    '%1 · %2 of %3 · %4% busy',
    gpu.name,
    formatBytes(gpu.memory_used),
    formatBytes(gpu.memory_total),
    gpu.utilization
  );
}

/**
 * The line a visitor reads, e.g. "You are viewing alice's shared workspace
 * as bob (read-write)"; `null` for the owner.
 */
export function formatVisitor(
  owner: string,
  viewer: IWorkspaceViewer,
  trans: TranslationBundle
): string | null {
  if (viewer.is_owner) {
    return null;
  }
  const access =
    viewer.access === 'read-only'
      ? trans.__('read-only')
      : trans.__('read-write');
  return trans.__(
    "You are viewing %1's shared workspace as %2 (%3)",
    owner,
    viewer.name,
    access
  );
}
