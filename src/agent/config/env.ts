/**
 * `${VAR}` and `${VAR:-default}` in string values, so one file serves every node of a DaemonSet (pod IP, node
 * name, interface). Expansion happens on the parsed YAML, never on the raw text: a variable's value can't inject
 * keys or structure, and quoting in the file keeps its meaning. `$${` writes a literal `${`.
 *
 * An unquoted value that expands to a number or boolean takes that type (`port: ${PORT:-5004}` is a number);
 * a quoted one stays a string.
 */
import type { Document, LineCounter } from 'yaml';
import { Scalar } from 'yaml';
import type { ConfigProblem } from './errors.js';
import { formatPath } from './errors.js';
import { visitValueScalars } from './yaml-nodes.js';

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Env = Readonly<Record<string, string | undefined>>;

/** The expanded text, or why it can't be expanded. */
export function expandString(text: string, env: Env): { value: string } | { error: string } {
  let error: string | undefined;
  const value = text.replace(REFERENCE, (match, body: string | undefined) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows the syntax literally.
      error ??= 'unclosed "${": write ${NAME} or ${NAME:-default} (or $${ for a literal "${")';
      return match;
    }
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    if (!NAME.test(name)) {
      error ??= `invalid variable reference "${match}": write \${NAME} or \${NAME:-default} (or $\${ for a literal "\${")`;
      return match;
    }
    const set = env[name];
    if (sep !== -1) return set === undefined || set === '' ? body.slice(sep + 2) : set;
    if (set === undefined) {
      error ??= `environment variable ${name} is not set (give a default with \${${name}:-value})`;
      return match;
    }
    return set;
  });
  return error === undefined ? { value } : { error };
}

const NUMBER = /^[-+]?(\d+|\d*\.\d+)([eE][-+]?\d+)?$/;

function retype(text: string): string | number | boolean {
  if (NUMBER.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}

/** Expands every string value in place; returns one problem per value that can't be expanded. */
export function expandEnvInDocument(doc: Document, lc: LineCounter, file: string, env: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visitValueScalars(doc.contents, [], (scalar, path) => {
    if (typeof scalar.value !== 'string' || !scalar.value.includes('${')) return;
    const result = expandString(scalar.value, env);
    if ('error' in result) {
      const pos = lc.linePos(scalar.range?.[0] ?? 0);
      problems.push({ file, line: pos.line, col: pos.col, path: formatPath(path), message: result.error });
      return;
    }
    scalar.value = scalar.type === Scalar.PLAIN ? retype(result.value) : result.value;
  });
  return problems;
}
