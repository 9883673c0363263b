/**
 * The release workflow a maintainer enables (.github/workflows/release.yml), checked by actionlint (built from
 * the Go module proxy by scripts/install-helm.sh) and read for the promises the README makes about releases:
 * npm with provenance, a multi-arch image, the chart on an OCI registry, nothing before it is enabled.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCollect } from './process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ACTIONLINT = resolve(ROOT, '.cache/bin/actionlint');
const WORKFLOW = resolve(ROOT, '.github/workflows/release.yml');
const MISSING = `${ACTIONLINT} is missing: build it with \`bash scripts/install-helm.sh\` (scripts/setup-dev.sh does)`;
if (!existsSync(ACTIONLINT))
  console.warn(`skipping the actionlint check of the release workflow: ${MISSING}`);

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(readFileSync(WORKFLOW, 'utf8')) as { jobs: Record<string, Job> };
const steps = (job: string) => workflow.jobs[job]?.steps ?? [];

describe.skipIf(!existsSync(ACTIONLINT))('release workflow under actionlint', () => {
  it('passes actionlint', async () => {
    const res = await runCollect(ACTIONLINT, ['-no-color', WORKFLOW], { cwd: ROOT });
    expect(res.out).toBe('');
    expect(res.code).toBe(0);
  });

  it('is really checked: actionlint refuses a broken copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vm-actionlint-'));
    try {
      const broken = readFileSync(WORKFLOW, 'utf8').replace('needs: check', 'needs: no-such-job');
      writeFileSync(join(dir, 'release.yml'), broken);
      const res = await runCollect(ACTIONLINT, ['-no-color', join(dir, 'release.yml')], { cwd: dir });
      expect(res.code).not.toBe(0);
      expect(res.out).toContain('no-such-job');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('release workflow', () => {
  it('does nothing until a maintainer enables it, and checks the version first', () => {
    expect(workflow.jobs.check?.if).toBe("vars.RELEASE_ENABLED == 'true'");
    for (const job of ['npm', 'image', 'chart'])
      expect([workflow.jobs[job]?.needs].flat()).toContain('check');
  });

  it('publishes to npm with provenance', () => {
    expect(workflow.jobs.npm?.permissions?.['id-token']).toBe('write');
    expect(steps('npm').some((s) => s.run?.includes('npm publish --provenance'))).toBe(true);
  });

  it('pushes a multi-arch image stamped with the version and revision', () => {
    const build = steps('image').find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with?.platforms).toBe('linux/amd64,linux/arm64');
    expect(build?.with?.['build-args']).toMatch(/VERSION=.*\n\s*REVISION=\$\{\{ github\.sha \}\}/);
  });

  it('pushes the chart to an OCI registry', () => {
    expect(steps('chart').some((s) => /helm push .* "oci:\/\//.test(s.run ?? ''))).toBe(true);
  });
});
