/**
 * The README's library quick start is code users paste: it is type-checked against the built package's
 * declarations and run as written (only its closing timer is shortened), on loopback inside the test namespace.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { NETNS_AVAILABLE } from '../harness/netns.js';

const execFileP = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

async function quickStart(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('```ts\n', readme.indexOf('## Library quick start'));
  expect(start).toBeGreaterThan(0);
  return readme.slice(start + 6, readme.indexOf('```', start + 6));
}

describe.skipIf(!NETNS_AVAILABLE)('README quick start', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('type-checks and discovers its own service', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vm-readme-'));
    const code = (await quickStart())
      .replace("from 'vault-multicast'", `from '${join(root, 'dist/src/index.js')}'`)
      .replace(
        /setTimeout\(\(\) => console\.log\(listener\.getMetrics\(\)\), \d+\);/,
        'await new Promise((r) => setTimeout(r, 3000));\nconsole.log(JSON.stringify(listener.getMetrics()));',
      );
    expect(code).toContain('await new Promise');
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    await writeFile(join(dir, 'quickstart.ts'), code);
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
    const { stdout } = await execFileP(process.execPath, [join(dir, 'out/quickstart.js')], {
      timeout: 20_000,
    });
    expect(stdout).toContain('up My Service 127.0.0.1:8080');
    const metrics = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(metrics.active_services).toBe(1);
    expect(metrics.packets_received).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
