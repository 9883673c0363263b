/**
 * zod issues rewritten for people editing YAML: "expected an integer, got the string "80"" rather than zod's
 * generic wording, unknown keys with a suggestion, and every issue placed at its line and column.
 */
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { describe } from './duration.js';
import type { ConfigProblem } from './errors.js';
import { formatPath } from './errors.js';
import { locate } from './yaml-nodes.js';

const NOUNS: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

// biome-ignore lint/suspicious/noExplicitAny: walks zod's public `def` tree, whose node types vary by kind.
type AnySchema = any;

/** The keys a strict object at `path` accepts, for "did you mean" hints. */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: AnySchema = schema;
  const unwrap = () => {
    for (let guard = 0; guard < 20 && node?.def; guard++) {
      const def = node.def;
      if (def.innerType) node = def.innerType;
      // A preprocess is a pipe from a transform into the real schema; a transform is a pipe out of it.
      else if (def.type === 'pipe') node = def.in?.def?.type === 'transform' ? def.out : def.in;
      else break;
    }
  };
  unwrap();
  for (const part of path) {
    if (typeof part === 'number' && node?.def?.type === 'array') node = node.def.element;
    else if (node?.def?.type === 'object') node = node.def.shape[part as string];
    else return [];
    unwrap();
  }
  return node?.def?.type === 'object' ? Object.keys(node.def.shape) : [];
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

export function suggest(key: string, known: readonly string[]): string {
  const plain = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const close = known.find((k) => plain(k) === plain(key)) ?? known.find((k) => distance(k, key) <= 2);
  if (close) return ` (did you mean ${close}?)`;
  return known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
}

/** A quoted number or boolean is a string in YAML; say so, since it looks right to the eye. */
function quotedHint(expected: string, input: unknown): string {
  if (typeof input !== 'string') return '';
  const numeric = (expected === 'number' || expected === 'int') && /^-?\d+(\.\d+)?$/.test(input.trim());
  const boolean = expected === 'boolean' && /^(true|false)$/.test(input.trim());
  return numeric || boolean ? ' (remove the quotes)' : '';
}

function message(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'required key is missing';
      return `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${describe(input)}${quotedHint(issue.expected, input)}`;
    case 'too_small': {
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      if (issue.origin === 'array') return `needs at least ${issue.minimum} item(s)`;
      const bound = issue.inclusive === false ? `more than ${issue.minimum}` : `at least ${issue.minimum}`;
      return `must be ${bound}, got ${String(input)}`;
    }
    case 'too_big': {
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `may have at most ${issue.maximum} items`;
      const bound = issue.inclusive === false ? `less than ${issue.maximum}` : `at most ${issue.maximum}`;
      return `must be ${bound}, got ${String(input)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(input)}`;
    default:
      return issue.message;
  }
}

export function issueProblems(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  doc: Document,
  lc: LineCounter,
  file: string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const place = locate(doc, lc, path, 'key');
        problems.push({
          file,
          ...place,
          path: formatPath(path),
          message: `unknown key${suggest(key, known)}`,
        });
      }
      continue;
    }
    const place = locate(doc, lc, issue.path);
    problems.push({ file, ...place, path: formatPath(issue.path), message: message(issue) });
  }
  return problems;
}
