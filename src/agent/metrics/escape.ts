/**
 * Label values reach /metrics from the network (service types, names and addresses are whatever a peer
 * announced), so every value is made safe for the text exposition format here: a lone UTF-16 surrogate would
 * become invalid UTF-8 and make Prometheus reject the whole scrape, so it turns into U+FFFD; backslash, double
 * quote and newline are the three characters the format requires escaped. Everything else (NUL, ANSI escapes,
 * other control characters) is legal inside a quoted label value and is kept as sent.
 */

const NEEDS_ESCAPE = /[\\"\n]/;
const ESCAPABLE = /[\\"\n]/g;

function escapeChar(ch: string): string {
  return ch === '\n' ? '\\n' : `\\${ch}`;
}

/** ES2024 string methods (Node 22 and 24 have them; the project's TypeScript lib stops at ES2023). */
interface Es2024String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** The string with every lone surrogate replaced by U+FFFD; well-formed text is returned as it is. */
export function wellFormed(value: string): string {
  const text = value as unknown as Es2024String;
  return text.isWellFormed() ? value : text.toWellFormed();
}

/** A label value as it goes between the double quotes of the text format. */
export function escapeLabelValue(value: string): string {
  const text = wellFormed(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPABLE, escapeChar) : text;
}

/** A sample value in the text format: finite numbers as JavaScript prints them, then NaN, +Inf, -Inf. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}
