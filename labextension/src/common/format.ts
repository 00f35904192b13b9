import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * Pure helpers turning numbers, sizes, durations and times into text a
 * person reads. Each takes the translation bundle where it has words.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * A number without trailing zeros, at most two decimals: 2 -> "2", 0.5 -> "0.5".
 */
export function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * Bytes in binary units with one decimal: 4294967296 -> "4.0 GiB"; an
 * unknown size (`undefined`) is "".
 */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) {
    return '';
  }
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
 * A time as the person reads it, in a time zone (default: the browser's).
 */
export function formatTime(iso: string | null, timeZone?: string): string {
  if (!iso) {
    return '—';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  try {
    return date.toLocaleString(undefined, {
      weekday: 'short',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone
    });
  } catch {
    return date.toLocaleString(); // an unknown time zone
  }
}

/**
 * A time (ISO text or ms since the epoch) in the browser's locale and time
 * zone, by default with date and seconds; "—" when there is none.
 */
export function formatLocalTime(
  when: string | number | null | undefined,
  options?: Intl.DateTimeFormatOptions
): string {
  return when ? new Date(when).toLocaleString(undefined, options) : '—';
}

/**
 * How far a time is from `now`: "in 3 h 20 min", "5 min ago".
 */
export function formatFromNow(
  iso: string,
  trans: TranslationBundle,
  now: number = Date.now()
): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (Number.isNaN(seconds)) {
    return '';
  }
  const span = formatDuration(Math.abs(seconds), trans, 2);
  return seconds >= 0 ? trans.__('in %1', span) : trans.__('%1 ago', span);
}

/**
 * The time zone of this browser (IANA name), `UTC` when unknown.
 */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * The IANA time zones this browser knows, for suggestions.
 */
export function knownTimeZones(): string[] {
  const intl = Intl as unknown as {
    supportedValuesOf?: (key: string) => string[];
  };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? ['UTC'];
  } catch {
    return ['UTC'];
  }
}
