/**
 * Process-level faults of the agent: SIGTERM at any moment of start-up ends it cleanly (no crash, no hang),
 * and a burst of ten SIGHUPs in one second — each after a config change that opens or closes sockets —
 * leaves it running with exactly the file descriptors it had.
 */
import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const running: SpawnedAgent[] = [];
afterEach(async () => {
  for (const a of running.splice(0)) await a.stop('SIGKILL', 2_000).catch(() => undefined);
});

async function fds(pid: number): Promise<string[]> {
  return (await readdir(`/proc/${pid}/fd`)).sort();
}

function config(port: number, extra: boolean): Record<string, unknown> {
  const listeners = [{ name: 'main', group: '239.70.0.1', port, interfaces: ['127.0.0.1'] }];
  const publishers = [
    {
      name: 'self',
      group: '239.70.0.1',
      port,
      interfaces: ['127.0.0.1'],
      interval: '1s',
      message: { type: 'p', addr: '198.18.0.1:1' },
    },
  ];
  if (extra) {
    listeners.push({ name: 'extra', group: '239.70.0.2', port, interfaces: ['127.0.0.1'] });
    publishers.push({
      name: 'extra',
      group: '239.70.0.2',
      port,
      interfaces: ['127.0.0.1'],
      interval: '1s',
      message: { type: 'q', addr: '198.18.0.2:1' },
    });
  }
  return { http: { enableReload: true }, listeners, publishers };
}

describe.skipIf(!IN_TEST_NETNS)('agent process faults', () => {
  it('exits cleanly on SIGTERM at any point of start-up', async () => {
    const port = await freeUdpPort();
    for (const delayMs of [0, 30, 80, 150, 300]) {
      const agent = await spawnAgent(config(port, true), { waitReady: false });
      running.push(agent);
      await new Promise((r) => setTimeout(r, delayMs));
      agent.child.kill('SIGTERM');
      const exit = await Promise.race([
        agent.exited(),
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8_000)),
      ]);
      const logs = agent.logs();
      expect(exit, `after ${delayMs} ms:\n${logs}`).not.toBe('hung');
      if (exit === 'hung') continue;
      // Before its handlers exist Node's default action ends it by the signal; afterwards it shuts down and
      // exits 143 (128 + SIGTERM). Never a crash, never exit 1.
      expect(
        exit.code === 143 || exit.code === 0 || exit.signal === 'SIGTERM',
        `${delayMs} ms: ${JSON.stringify(exit)}\n${logs}`,
      ).toBe(true);
      expect(logs).not.toMatch(/uncaught|unhandled|TypeError|ReferenceError/i);
    }
  });

  it('keeps its file descriptors through ten SIGHUPs in one second', async () => {
    const port = await freeUdpPort();
    const agent = await spawnAgent(config(port, false));
    running.push(agent);
    const reloads = async () => {
      const m = /^vault_multicast_config_reloads_total\{result="success"\} (\d+)/m.exec(
        (await agent.fetch('/metrics')).body,
      );
      return Number(m?.[1] ?? 0);
    };
    // A first reload opens whatever lazily opened descriptors a reload needs, so the baseline is steady.
    await agent.reload(config(port, false));
    await waitFor(async () => (await reloads()) >= 1, 'the first reload', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const before = await fds(agent.pid);

    for (let i = 0; i < 10; i++) {
      // Alternate configs: every other one adds a listener and a publisher (two more sockets), then takes them away.
      await agent.writeConfig(config(port, i % 2 === 0));
      agent.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 100));
    }
    await agent.reload(config(port, false));
    // Bursts collapse, so fewer reloads than signals run; wait until the last config is in force and quiet.
    await waitFor(
      async () => {
        const status = JSON.parse((await agent.fetch('/api/v1/status')).body) as unknown;
        const text = JSON.stringify(status);
        return text.includes('239.70.0.1') && !text.includes('239.70.0.2');
      },
      'the final configuration',
      15_000,
    );
    let after: string[] = [];
    await waitFor(
      async () => {
        after = await fds(agent.pid);
        return after.length === before.length;
      },
      'descriptors to settle',
      10_000,
    ).catch(() => undefined);
    expect(after.length, `before ${before.length}, after ${after.length}`).toBe(before.length);
    expect((await agent.fetch('/-/ready')).status).toBe(200);
    expect(agent.child.exitCode).toBeNull();
  }, 60_000);
});
