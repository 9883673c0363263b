/**
 * Text from the network shown to people (label values in /metrics, log message text) must not act on the
 * terminal that shows it: C0 and C1 controls would run as escape sequences (ESC [ … changes colours, moves the
 * cursor, sets the window title; BEL rings), and bidi overrides reorder what is shown so that a name reads as
 * something else. Each is replaced by something visible instead: C0 and DEL by their Unicode control pictures
 * (␛, ␇, ␀), C1 controls and bidi controls by `<U+XXXX>`. The JSON API keeps the text exact (JSON escapes it).
 */

/** Controls other than newline, as the body of a regular-expression character class. */
export const CONTROLS =
  '\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
const ANY_CONTROL = new RegExp(`[\\n${CONTROLS}]`);
const EVERY_CONTROL = new RegExp(`[\\n${CONTROLS}]`, 'g');

/** The visible stand-in for one control character. */
export function visibleChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** `text` with every control character (newline included) replaced visibly; other text unchanged. */
export function visibleText(text: string): string {
  return ANY_CONTROL.test(text) ? text.replace(EVERY_CONTROL, visibleChar) : text;
}
