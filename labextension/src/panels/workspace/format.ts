import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  IGpuDevice,
  IPlatformStatus,
  IWorkspaceImage
} from '../../tokens';

/**
 * Pure helpers turning workspace facts into text a person reads.
 *
 * Each takes the translation bundle so that every word can be translated.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * A number without trailing zeros, at most two decimals: 2 -> "2", 0.5 -> "0.5".
 */
export function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * Bytes in binary units with one decimal: 4294967296 -> "4.0 GiB".
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return String(bytes);
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0
    ? `${Math.round(value)} ${BYTE_UNITS[0]}`
    : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

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
 * A CPU limit: "1 core", "2 cores", "0.5 cores", or "unlimited" for `null`.
 */
export function formatCores(
  cores: number | null,
  trans: TranslationBundle
): string {
  if (cores === null) {
    return trans.__('unlimited');
  }
  return trans._n('%2 core', '%2 cores', cores, formatNumber(cores));
}

/**
 * A GPU count, or "none" for 0.
 */
export function formatGpus(count: number, trans: TranslationBundle): string {
  return count > 0 ? String(count) : trans.__('none');
}

/**
 * A duration in whole seconds, with at most `maxUnits` units counted from the
 * largest non-zero one; zero units are left out: 3600 -> "1 h",
 * 3725 -> "1 h 2 min 5 s", 90061 -> "1 d 1 h 1 min".
 */
export function formatDuration(
  seconds: number,
  trans: TranslationBundle,
  maxUnits = 3
): string {
  let rest = Math.max(0, Math.floor(seconds));
  const parts = [
    { size: 86400, label: (n: number) => trans.__('%1 d', n) },
    { size: 3600, label: (n: number) => trans.__('%1 h', n) },
    { size: 60, label: (n: number) => trans.__('%1 min', n) },
    { size: 1, label: (n: number) => trans.__('%1 s', n) }
  ];
  const out: string[] = [];
  let started = false;
  let used = 0;
  for (const { size, label } of parts) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) {
      started = true;
    }
    if (started) {
      used += 1;
      if (count > 0) {
        out.push(label(count));
      }
      if (used === maxUnits) {
        break;
      }
    }
  }
  return out.length > 0 ? out.join(' ') : trans.__('%1 s', 0);
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
 * An image digest shortened for display: the algorithm and 12 hex digits,
 * "sha256:0123456789ab". A digest that is already short is returned as is.
 */
export function shortenDigest(digest: string, length = 12): string {
  const colon = digest.indexOf(':');
  const algorithm = colon >= 0 ? digest.slice(0, colon + 1) : '';
  const hex = colon >= 0 ? digest.slice(colon + 1) : digest;
  return hex.length > length ? `${algorithm}${hex.slice(0, length)}` : digest;
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
