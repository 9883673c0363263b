/**
 * The README's "Picking a service" library example is code users paste: type-checked against the built
 * package's declarations and run as written against a real publisher, on loopback inside the test namespace.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { type PublisherProcess, startPublisher } from '../web/publisher-process.js';

const execFileP = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

async function example(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('```ts\n', readme.indexOf('## Picking a service'));
  expect(start).toBeGreaterThan(0);
  return readme.slice(start + 6, readme.indexOf('```', start + 6));
}

describe.skipIf(!IN_TEST_NETNS)('README: picking a service', () => {
  let dir = '';
  let publisher: PublisherProcess | undefined;
  afterAll(async () => {
    await publisher?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('type-checks, finds the library and follows it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vm-readme-pick-'));
    // A port of its own: the quick start's test may announce on the default one at the same time.
    const port = await freeUdpPort();
    const code = (await example())
      .replace("from 'vault-multicast'", `from '${join(root, 'dist/src/index.js')}'`)
      .replace("{ interfaces: ['127.0.0.1'] }", `{ interfaces: ['127.0.0.1'], port: ${port} }`);
    expect(code).toContain(`port: ${port}`);
    const file = join(dir, 'pick.mts');
    await writeFile(file, code);
    await execFileP(
      join(root, 'node_modules/.bin/tsc'),
      [
        '--ignoreConfig',
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--lib',
        'es2023,dom',
        '--types',
        'node',
        '--typeRoots',
        join(root, 'node_modules/@types'),
        file,
      ],
      { timeout: 60_000 },
    );
    publisher = await startPublisher({
      group: '224.1.1.1',
      port,
      message: { type: 'VaultLibrary', name: 'stacks', addr: '127.0.0.1:8200' },
    });
    const { stdout } = await execFileP(process.execPath, [file], { timeout: 30_000 });
    expect(stdout).toMatch(/^connect to 127\.0\.0\.1:8200 \{/m);
    expect(stdout).toMatch(/^up stacks 127\.0\.0\.1:8200$/m);
  }, 90_000);
});
