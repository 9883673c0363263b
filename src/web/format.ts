/**
 * Turns the agent's numbers into short, human-readable text. Pure functions, shared by the table, the
 * details panel and the metrics tiles, and unit-tested without a browser.
 */

const countFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const rateFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** An integer count with thousands separators; '—' for anything that is not a finite number. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? countFormat.format(n) : '—';
}

const BYTE_UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** Bytes as the widget showed them (B, then KB, MB, … in powers of 1024, one decimal). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${Math.round(n)} B`;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Packets per second with one decimal. */
export function formatRate(perSecond: number): string {
  return Number.isFinite(perSecond) ? `${rateFormat.format(Math.max(0, perSecond))}/s` : '—';
}

/** A span of time in its two largest units: 45s, 3m 05s, 2h 03m, 4d 02h. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const pad = (v: number) => String(v).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/** How long ago something happened, in words that change every second while it is recent. */
export function formatAgo(secondsAgo: number): string {
  if (!Number.isFinite(secondsAgo)) return '—';
  if (secondsAgo < 1) return 'just now';
  return `${formatDuration(secondsAgo)} ago`;
}

/** The announcement's age (receive time minus the sender's timestamp): transit delay plus clock offset. */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const abs = Math.abs(seconds);
  if (abs < 1) return `${Math.round(seconds * 1000)} ms`;
  if (abs < 60) return `${seconds.toFixed(1)} s`;
  return `${seconds < 0 ? '-' : ''}${formatDuration(abs)}`;
}

/** A Unix time (seconds) as the local time of day, HH:MM:SS on a 24-hour clock, as the widget showed it. */
export function formatClock(unixSeconds: number): string {
  if (!Number.isFinite(unixSeconds) || unixSeconds <= 0) return '—';
  const d = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A Unix time (seconds) as local date and time, for the details panel. */
export function formatTimestamp(unixSeconds: number): string {
  if (!Number.isFinite(unixSeconds) || unixSeconds <= 0) return '—';
  return new Date(unixSeconds * 1000).toLocaleString();
}
