/**
 * Everything wrong with a configuration file, reported at once: a user fixing a file wants the whole list, not
 * one problem per run. Each problem points at the place in the file (1-based line and column, as editors count)
 * and names the key path, so `file:line:col: key.path: message` lines can be clicked in an editor or a CI log.
 */

export interface ConfigProblem {
  /** The file as the user named it. */
  file: string;
  /** 1-based; undefined when the problem has no place in the file (e.g. the file cannot be read). */
  line: number | undefined;
  col: number | undefined;
  /** Dotted key path with [index] for list items, e.g. `listeners[0].group`; '' for the whole document. */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  // Messages quote file paths and values; a line break in one must not split the report.
  const message = p.message.replace(/\r?\n/g, '\\n');
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`;
  return p.path === '' ? `${where}: ${message}` : `${where}: ${p.path}: ${message}`;
}

/** Problems in file order, so the report reads top to bottom like the file. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** Thrown by loadConfigFile/parseConfig. `message` is the full report, one problem per line. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const sorted = sortProblems(problems);
    super(sorted.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = sorted;
  }
}

/**
 * Key path as users read it: `listeners[0].interfaces[1]`. A key that is not a plain word (it can be
 * anything inside a message mapping) is quoted, `message["a.b"]`, so that each report stays one line.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(part))) out += `[${JSON.stringify(String(part))}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
