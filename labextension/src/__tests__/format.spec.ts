import { formatBytes, formatLocalTime } from '../common/format';

describe('formatBytes', () => {
  it('leaves an unknown size empty', () => {
    expect(formatBytes(undefined)).toBe('');
  });
});

describe('formatLocalTime', () => {
  it('writes a time in the browser locale, from ISO text or milliseconds', () => {
    const iso = '2026-03-01T12:30:00Z';
    const expected = new Date(iso).toLocaleString();
    expect(formatLocalTime(iso)).toBe(expected);
    expect(formatLocalTime(Date.parse(iso))).toBe(expected);
  });

  it('passes the options on', () => {
    const options: Intl.DateTimeFormatOptions = {
      dateStyle: 'medium',
      timeStyle: 'short'
    };
    const when = Date.parse('2026-03-01T12:30:00Z');
    expect(formatLocalTime(when, options)).toBe(
      new Date(when).toLocaleString(undefined, options)
    );
  });

  it('writes a dash when there is no time', () => {
    expect(formatLocalTime(null)).toBe('—');
    expect(formatLocalTime(undefined)).toBe('—');
    expect(formatLocalTime('')).toBe('—');
  });
});
