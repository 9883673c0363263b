/**
 * Reading the agent's YAML configuration: parse with positions, expand `${VAR}`, validate the shape, check the
 * cross-field rules, read the secret files. Each stage reports all of its problems at once as a ConfigError;
 * later stages run only when earlier ones passed, since they would mostly repeat the same mistake.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { type Env, expandEnvInDocument } from './env.js';
import { ConfigError, type ConfigProblem, formatPath } from './errors.js';
import { issueProblems } from './issues.js';
import { configSchema } from './schema.js';
import { readSecrets } from './secrets.js';
import type { AgentConfig } from './types.js';
import { locate } from './yaml-nodes.js';

const YAML_MESSAGES: Record<string, (source: string) => string> = {
  DUPLICATE_KEY: (src) => `duplicate key ${JSON.stringify(keyAt(src))}: each key may appear once per mapping`,
};

function keyAt(source: string): string {
  return source.split(/[:\n]/)[0]?.trim() ?? source;
}

export async function loadConfigFile(path: string, env: Env = process.env): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
    throw new ConfigError([
      { file: path, line: undefined, col: undefined, path: '', message: `cannot read configuration: ${why}` },
    ]);
  }
  return parseConfig(text, path, env);
}

/**
 * `filename` names the file in messages; relative secret paths are resolved from its directory.
 */
export async function parseConfig(
  text: string,
  filename: string,
  env: Env = process.env,
): Promise<AgentConfig> {
  const file = filename;
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });

  // Warnings too (an unresolved !tag, a collection used as a key): the file would load as something other
  // than what it seems to say.
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    throw new ConfigError(
      yamlProblems.map((e): ConfigProblem => {
        const pos = lc.linePos(e.pos[0]);
        const rewrite = YAML_MESSAGES[e.code];
        const message = rewrite
          ? rewrite(source.slice(e.pos[0], e.pos[1] + 200))
          : `${e.name === 'YAMLWarning' ? 'YAML' : 'YAML syntax'}: ${e.message}`;
        return { file, line: pos.line, col: pos.col, path: '', message };
      }),
    );
  }

  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw new ConfigError([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: 'the file is empty; it needs at least a listener or a publisher (see docs/configuration.md)',
      },
    ]);
  }
  if (!isMap(root)) {
    const place = lc.linePos(root.range?.[0] ?? 0);
    const got = isSeq(root) ? 'a list' : 'a single value';
    throw new ConfigError([
      {
        file,
        ...place,
        path: '',
        message: `expected a mapping of settings (http, listeners, publishers...), got ${got}`,
      },
    ]);
  }

  const envProblems = expandEnvInDocument(doc, lc, file, env);
  if (envProblems.length > 0) throw new ConfigError(envProblems);

  let data: unknown;
  try {
    // The alias limit stops a "billion laughs" document from expanding into gigabytes.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  const result = configSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw new ConfigError(issueProblems(result.error.issues, configSchema, doc, lc, file));

  const secrets = await readSecrets(result.data, dirname(resolve(filename)), file, (path) =>
    locate(doc, lc, path),
  );
  if ('problems' in secrets) throw new ConfigError(secrets.problems);
  return secrets.config;
}

export { ConfigError, formatPath };
