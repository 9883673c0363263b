/**
 * The systemd unit example passes `systemd-analyze verify` with no warning (an unknown or misspelt directive
 * is only a warning to systemd, silently dropping a sandboxing line), and its commands are the agent's.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCollect } from './process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const UNIT = readFileSync(resolve(ROOT, 'config/examples/vault-multicast.service'), 'utf8');
const ANALYZE = '/usr/bin/systemd-analyze';
if (!existsSync(ANALYZE)) console.warn('skipping the systemd unit check: systemd-analyze is not installed');

async function verify(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vm-unit-'));
  try {
    // verify insists that ExecStart's program exists; the agent is not installed system-wide here.
    writeFileSync(
      join(dir, 'vault-multicast.service'),
      text.replaceAll('/usr/bin/vault-multicast', '/bin/true'),
    );
    return await runCollect(ANALYZE, ['verify', join(dir, 'vault-multicast.service')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!existsSync(ANALYZE))('systemd unit example', () => {
  it('verifies without a warning', async () => {
    const res = await verify(UNIT);
    expect(res.out).toBe('');
    expect(res.code).toBe(0);
  });

  it('would report a misspelt directive (the check is live)', async () => {
    const res = await verify(UNIT.replace('NoNewPrivileges=', 'NoNewPrivilegs='));
    expect(res.out).toContain("Unknown key 'NoNewPrivilegs'");
  });

  it('checks the config before starting, runs the agent, reloads on SIGHUP and stops with time for goodbyes', () => {
    expect(UNIT).toContain(
      'ExecStartPre=/usr/bin/vault-multicast agent --config /etc/vault-multicast/agent.yaml --check',
    );
    expect(UNIT).toContain(
      'ExecStart=/usr/bin/vault-multicast agent --config /etc/vault-multicast/agent.yaml\n',
    );
    expect(UNIT).toContain('ExecReload=/bin/kill -HUP $MAINPID');
    expect(UNIT).toMatch(/^TimeoutStopSec=30s$/m);
    expect(UNIT).toMatch(/^DynamicUser=yes$/m);
    expect(UNIT).toMatch(/^CapabilityBoundingSet=$/m);
  });
});
