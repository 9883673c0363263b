/**
 * Durations as people write them in YAML: `500ms`, `2s`, `5m`, `1h`, `1d`, combinations such as `1m30s`, and a
 * plain number meaning seconds (the original's `timeout=2.0` was seconds, so `interval: 2` keeps that meaning).
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/gy;

export const DURATION_HINT =
  'use a number with a unit, like 500ms, 2s, 5m or 1h (a plain number means seconds)';

/** Milliseconds (rounded to whole ms), or an error message. Negative durations are rejected. */
export function parseDuration(value: unknown): { ms: number } | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      return { error: `invalid duration ${value}: must be 0 or more` };
    return { ms: Math.round(value * 1000) };
  }
  if (typeof value !== 'string')
    return { error: `expected a duration, got ${describe(value)}; ${DURATION_HINT}` };
  const text = value.trim();
  if (/^(\d+(\.\d+)?|\.\d+)$/.test(text)) return { ms: Math.round(Number(text) * 1000) };
  let total = 0;
  let seen = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? Number.NaN);
    seen = PART.lastIndex;
  }
  if (text === '' || seen !== text.length || !Number.isFinite(total)) {
    return { error: `invalid duration ${JSON.stringify(value)}; ${DURATION_HINT}` };
  }
  return { ms: Math.round(total) };
}

/** Short description of a YAML value for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
