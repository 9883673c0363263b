/**
 * The agent's log formats, as node_exporter's --log.format: `json` (pino's lines, for collectors), `logfmt`
 * (key=value, for grep and Loki) and `pretty` (for a person at a terminal). pino always produces the JSON
 * line; the other two are rewritten from it, so every format carries the same fields.
 */

export type LogFormat = 'json' | 'logfmt' | 'pretty';

/** What a format left unset means: pretty for a person at a terminal, json for anything else. */
export function defaultLogFormat(isTty: boolean | undefined): LogFormat {
  return isTty ? 'pretty' : 'json';
}

// Control characters (C0, DEL, C1) and bidirectional overrides, which could rewrite a terminal or hide text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const escapeUnsafe = (s: string) =>
  s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A value as logfmt writes it: bare when it is one plain word, otherwise quoted with escapes. */
function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text !== '' && /^[\w.:/@+%,[\]-]+$/.test(text)) return text;
  return escapeUnsafe(JSON.stringify(text).slice(1, -1)).replace(/^|$/g, '"');
}

function fields(record: Record<string, unknown>, skip: readonly string[]): string {
  return Object.entries(record)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}=${logfmtValue(v)}`)
    .join(' ');
}

/** Rewrites one pino JSON line (with its newline) into `format`. */
export function formatLine(line: string, format: LogFormat): string {
  if (format === 'json') return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (format === 'logfmt') {
    const { time, level, msg, ...rest } = record;
    return `${fields({ time, level, msg, ...rest }, [])}\n`;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const level = String(record.level ?? '')
    .toUpperCase()
    .padEnd(5);
  const msg = escapeUnsafe(String(record.msg ?? ''));
  const rest = fields(record, ['time', 'level', 'msg', 'pid']);
  return `${time} ${level} ${msg}${rest ? `  ${rest}` : ''}\n`;
}
