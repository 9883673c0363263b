/**
 * Label values reach /metrics from the network (service types, names and addresses are whatever a peer
 * announced), so every value is made safe for the text exposition format here: a lone UTF-16 surrogate would
 * become invalid UTF-8 and make Prometheus reject the whole scrape, so it turns into U+FFFD; backslash, double
 * quote and newline are the three characters the format requires escaped. Other C0 and C1 controls and the
 * bidi overrides are legal there but would run as escape sequences in a terminal showing `curl …/metrics`
 * (and make grep call the body binary), so they are replaced visibly (see visibleText).
 */
import { CONTROLS, visibleChar } from './visible.js';

const NEEDS_ESCAPE = new RegExp(`[\\\\"\\n${CONTROLS}]`);
const ESCAPABLE = new RegExp(`[\\\\"\\n${CONTROLS}]`, 'g');

function escapeChar(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\\' || ch === '"') return `\\${ch}`;
  return visibleChar(ch);
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
