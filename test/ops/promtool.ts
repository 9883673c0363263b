/**
 * Runs the Debian `promtool` (or $PROMTOOL) the way CI does. Rules and PromQL are only trusted once promtool has
 * parsed them: a query that merely looks right in a review is what breaks a dashboard at 3 a.m.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

export interface ToolResult {
  code: number;
  output: string;
}

export function promtool(args: string[], cwd?: string): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Parse-checks PromQL expressions with `promtool check rules`, one recording rule per expression, and returns
 * promtool's verdict. Names are kept in the rule names so a failure points at the panel or alert.
 */
export async function checkExpressions(exprs: { name: string; expr: string }[]): Promise<ToolResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vm-promql-'));
  try {
    const rules = exprs.map((e, i) => ({
      record: `check:expr_${i}:${e.name.replace(/[^a-zA-Z0-9_]/g, '_')}`,
      expr: e.expr,
    }));
    const file = join(dir, 'exprs.yaml');
    await writeFile(file, stringify({ groups: [{ name: 'parse-check', rules }] }));
    return await promtool(['check', 'rules', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
