/** Option parsing helpers shared by the CLI's subcommands (which call node:util parseArgs): checked numbers. */
import { DEFAULT_MULTICAST_GROUP, DEFAULT_PORT } from '../discovery/constants.js';

/** Bad usage: the message is printed with the subcommand's usage, and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** An option the command does not know (`--intrface`), so the caller can suggest the nearest one. */
    readonly unknownOption?: string,
  ) {
    super(message);
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs `parse` (a node:util parseArgs call), turning its errors (unknown option, missing value) into usage errors. */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = /^Unknown option '([^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined)
      throw new UsageError(`unknown option ${unknown}`, unknown);
    throw new UsageError(e.message);
  }
}

/**
 * The option of `usage` (a command's help text) nearest to a mistyped one: a prefix of it, or within a few
 * edits (a third of its length, at least 2). Undefined when nothing is close, so a wild guess is not offered.
 */
export function nearestOption(typed: string, usage: string): string | undefined {
  const word = typed.replace(/^-+/, '').split('=')[0] ?? '';
  const known = [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])].map((o) => o.slice(2));
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const distance = option.startsWith(word) && word.length >= 3 ? 0 : editDistance(word, option);
    if (best === undefined || distance < best.distance) best = { option, distance };
  }
  if (best === undefined || best.distance > Math.max(2, Math.floor(word.length / 3))) return undefined;
  return `--${best.option}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost);
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/** "unknown option --x", with "; did you mean --y?" when one of the usage's options is close. */
export function usageMessage(err: UsageError, usage: string): string {
  const near = err.unknownOption === undefined ? undefined : nearestOption(err.unknownOption, usage);
  return near === undefined ? err.message : `${err.message}; did you mean ${near}?`;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** A numeric option, or `fallback` when absent; a usage error names the option and the accepted range. */
export function numberOption(
  value: string | undefined,
  name: string,
  fallback: number,
  rule?: NumberRule,
): number;
export function numberOption(
  value: string | undefined,
  name: string,
  fallback: undefined,
  rule?: NumberRule,
): number | undefined;
export function numberOption(
  value: string | undefined,
  name: string,
  fallback: number | undefined,
  rule: NumberRule = {},
): number | undefined {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  const bad =
    !Number.isFinite(n) ||
    (rule.integer && !Number.isInteger(n)) ||
    (rule.min !== undefined && n < rule.min) ||
    (rule.max !== undefined && n > rule.max);
  if (bad) {
    const kind = rule.integer ? 'an integer' : 'a number';
    const range =
      rule.min !== undefined && rule.max !== undefined
        ? ` between ${rule.min} and ${rule.max}`
        : rule.min !== undefined
          ? ` ≥ ${rule.min}`
          : '';
    throw new UsageError(`--${name} must be ${kind}${range}, got '${value}'`);
  }
  return n;
}

/** `--interface` given once or several times, each possibly a comma-separated list; undefined when absent. */
export function interfaceOption(values: string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * Text from the network made safe for a terminal: control characters (C0, DEL, C1 — which include escape
 * sequences that could rewrite the screen) and bidirectional marks, overrides and isolates become visible `\uXXXX`
 * escapes, and a backslash becomes `\\`, so that a sender cannot fake an escape either.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Help lines for ENDPOINT_OPTIONS, aligned with the subcommands' own (descriptions from column 23). */
export const ENDPOINT_USAGE = `  --group G            multicast group, IPv4 or IPv6 (default ${DEFAULT_MULTICAST_GROUP})
  --port P             UDP port (default ${DEFAULT_PORT})
  --interface IF       interface name or address; repeat or comma-separate for several, 'all' for every one
                       (default: the kernel's choice)
`;

/** Options both `publish` and `browse` take, for node:util parseArgs. */
export const ENDPOINT_OPTIONS = {
  group: { type: 'string' },
  port: { type: 'string' },
  interface: { type: 'string', multiple: true },
} as const;
