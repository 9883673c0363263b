/**
 * The README's library quick start is code users paste: the TypeScript form is type-checked against the built
 * package's declarations and run as written, and the plain-JavaScript form is run as written on Node.js 24 and
 * on Node.js 22 (when the tool cache has it), on loopback inside the test namespace. Only the wait is
 * shortened and the metrics printed as JSON. Each program must also end by itself: `await using` or the
 * `finally` blocks stop the publisher's timer and close the sockets, or the process would never exit.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETNS_AVAILABLE } from '../harness/netns.js';

const execFileP = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const NODE22 = join(root, '.cache/node/22/bin/node');

/** The first fenced block of `lang` in the README's quick start section. */
async function quickStart(lang: 'ts' | 'js'): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.indexOf('## Library quick start');
  const start = readme.indexOf(`\`\`\`${lang}\n`, section);
  expect(start).toBeGreaterThan(section);
  expect(start).toBeLessThan(readme.indexOf('\n## ', section + 1));
  const body = start + lang.length + 4;
  return readme.slice(body, readme.indexOf('```', body));
}

/** The program as written, importing the built package, with a shorter wait and the metrics as JSON. */
function runnable(code: string): string {
  const out = code
    .replace("from 'vault-multicast'", `from '${join(root, 'dist/src/index.js')}'`)
    .replace('setTimeout(resolve, 5000)', 'setTimeout(resolve, 3000)')
    .replace('console.log(listener.getMetrics());', 'console.log(JSON.stringify(listener.getMetrics()));');
  expect(out).toContain('setTimeout(resolve, 3000)');
  expect(out).toContain('JSON.stringify(listener.getMetrics())');
  return out;
}

async function run(node: string, file: string): Promise<void> {
  const { stdout } = await execFileP(node, [file], { timeout: 30_000 });
  expect(stdout).toContain('up My Service 127.0.0.1:8080');
  const metrics = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  expect(metrics.active_services).toBe(1);
  expect(metrics.packets_received).toBeGreaterThanOrEqual(1);
}

describe.skipIf(!NETNS_AVAILABLE)('README quick start', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vm-readme-'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('TypeScript with await using: type-checks, discovers its own service and stops at the end', async () => {
    await writeFile(join(dir, 'quickstart.ts'), runnable(await quickStart('ts')));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
          outDir: 'out',
        },
        files: ['quickstart.ts'],
      }),
    );
    await execFileP(join(root, 'node_modules/.bin/tsc'), ['-p', dir], { timeout: 60_000 });
    await run(process.execPath, join(dir, 'out/quickstart.js'));
  }, 120_000);

  it('plain JavaScript with try/finally runs as written on this Node.js', async () => {
    await writeFile(join(dir, 'quickstart.mjs'), runnable(await quickStart('js')));
    await run(process.execPath, join(dir, 'quickstart.mjs'));
  }, 60_000);

  it.skipIf(!existsSync(NODE22))(
    'plain JavaScript with try/finally runs as written on Node.js 22',
    async () => {
      await writeFile(join(dir, 'quickstart22.mjs'), runnable(await quickStart('js')));
      await run(NODE22, join(dir, 'quickstart22.mjs'));
    },
    60_000,
  );
});
