/**
 * The closing line of `npm test` (scripts/test-summary.mjs over vitest's JSON report) counts a test file that
 * fails to load as a failure, so a suite that never ran cannot hide behind "N passed, 0 failed"; and the
 * suite says at its start which groups it skips for a missing prerequisite (test/harness/prerequisites.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'vm-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm test closing line', () => {
  it('counts a file that fails to load, names it, and counts failed tests', () => {
    writeFileSync(
      join(dir, 'ok.test.ts'),
      "import { it } from 'vitest';\nit('passes', () => {});\nit.skip('later', () => {});\n",
    );
    writeFileSync(join(dir, 'broken.test.ts'), "throw new Error('cannot load');\n");
    writeFileSync(
      join(dir, 'failing.test.ts'),
      "import { expect, it } from 'vitest';\nit('fails', () => expect(1).toBe(2));\n",
    );
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const report = join(dir, 'report.json');
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/vitest'),
      ['run', '--root', dir, '--reporter=json', `--outputFile.json=${report}`],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      },
    );
    expect(run.status, run.stderr).not.toBe(0);
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts/test-summary.mjs'), report], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/^failed to run: .*broken\.test\.ts: .*cannot load/m);
    expect(out.trim().split('\n').at(-1)).toBe('1 passed, 2 failed, 1 skipped');
  }, 150_000);

  it('says at the start which groups are skipped for lack of network namespaces', () => {
    const run = spawnSync(join(ROOT, 'node_modules/.bin/vitest'), ['run', 'test/unit/config-diff.test.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, VM_NO_NETNS: '1', VM_TEST_NETNS: '' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const out = run.stdout + run.stderr;
    expect(out).toContain('Skipping tests that need what this machine lacks:');
    expect(out).toContain('  - network namespaces (needs root; VM_NO_NETNS=1 turns them off)');
    expect(out).toContain('  - the throwaway test namespace');
  }, 150_000);
});
