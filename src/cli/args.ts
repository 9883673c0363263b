/** Option parsing helpers shared by the CLI's subcommands (which call node:util parseArgs): checked numbers. */
import { DEFAULT_MULTICAST_GROUP, DEFAULT_PORT } from '../constants.js';

/** Bad usage: the message is printed with the subcommand's usage, and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs `parse` (a node:util parseArgs call), turning its errors (unknown option, missing value) into usage errors. */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
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
