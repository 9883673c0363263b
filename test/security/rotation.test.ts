/**
 * Key rotation through a running agent: with the new key first and the old one second, announcements signed
 * with either are accepted; after a reload that removes the old key, only the new one is, and the old one's
 * announcements are dropped as unknown_key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { createSigner } from '../../src/discovery/security/index.js';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const GROUP = '239.73.0.1';
const OLD = { id: '2026-01', key: Buffer.from('old-key-old-key-old-key-old-key-0001') };
const NEW = { id: '2026-07', key: Buffer.from('new-key-new-key-new-key-new-key-0002') };

let dir = '';
let agent: SpawnedAgent | undefined;
const publishers: VaultMultiPublisher[] = [];
afterAll(async () => {
  await Promise.all(publishers.map((p) => p.stop()));
  await agent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe.skipIf(!IN_TEST_NETNS)('signing key rotation through the agent', () => {
  it('accepts both keys during the overlap and only the new one after', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vm-rot-'));
    await writeFile(join(dir, 'old.key'), OLD.key);
    await writeFile(join(dir, 'new.key'), NEW.key);
    const port = await freeUdpPort();
    const config = (keys: { id: string; file: string }[]) => ({
      http: { enableReload: true },
      security: { signing: { mode: 'required', keys } },
      listeners: [{ name: 'rot', group: GROUP, port, interfaces: ['127.0.0.1'], serviceTimeout: '1s' }],
    });
    const both = [
      { id: NEW.id, file: join(dir, 'new.key') },
      { id: OLD.id, file: join(dir, 'old.key') },
    ];
    agent = await spawnAgent(config(both));
    for (const [k, name] of [
      [OLD, 'signed-old'],
      [NEW, 'signed-new'],
    ] as const) {
      const p = new VaultMultiPublisher({
        group: GROUP,
        port,
        interfaces: '127.0.0.1',
        interval: 0.2,
        message: { type: 'rot', name, addr: `198.18.0.${name === 'signed-old' ? 1 : 2}:1` },
        signer: createSigner({ keyId: k.id, key: k.key, group: GROUP, port }),
      });
      await p.start();
      publishers.push(p);
    }
    const up = async () => {
      const text = (await agent!.fetch('/metrics')).body;
      return {
        old: metric(text, 'vault_multicast_service_up', 'service_name="signed-old"'),
        new: metric(text, 'vault_multicast_service_up', 'service_name="signed-new"'),
        unknownKey: metric(text, 'vault_multicast_dropped_packets_total', 'reason="unknown_key"'),
      };
    };
    await waitFor(
      async () => {
        const u = await up();
        return u.old === 1 && u.new === 1;
      },
      'both services during the overlap',
      10_000,
    );
    expect((await up()).unknownKey).toBe(0);

    await agent.reload(config([both[0]!]));
    await waitFor(async () => (await up()).unknownKey > 0, 'the old key to be refused', 10_000);
    // The listener took the new keyring in place: the new key's service stays up, the old one's, no longer
    // accepted, goes stale after its 1 s timeout.
    await waitFor(async () => (await up()).old === 0, 'the old-key service to go stale', 10_000);
    const after = await up();
    expect(after.new).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect((await up()).unknownKey).toBeGreaterThan(after.unknownKey);
  }, 60_000);
});
