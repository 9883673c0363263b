/**
 * Replay across a reload and a restart. An attacker records a signed announcement with `ttl: 3600`, waits
 * for the service's goodbye, then replays the recording within the replay window. Before: a reload (here a
 * key rotation) rebuilt the signature guard with an empty cache, and a restart forgot it, so the replay
 * brought the dead service back for an hour. Now the cache survives reloads, and a started agent accepts no
 * signed datagram stamped before its start.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { createSigner } from '../../src/discovery/security/index.js';
import { startTestAgent, type TestAgent } from '../agent/in-process.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const GROUP = '239.73.0.9';
const KEY_A = 'replay-key-a-replay-key-a-replay-key-a-01';
const KEY_B = 'replay-key-b-replay-key-b-replay-key-b-02';

const agents: TestAgent[] = [];
let sender: Socket | undefined;
afterEach(async () => {
  sender?.close();
  sender = undefined;
  for (const a of agents.splice(0)) await a.close();
});

function config(port: number, first: 'a' | 'b'): string {
  const keys = first === 'a' ? ['a', 'b'] : ['b', 'a'];
  return `
http: {listen: "@HTTP@", enableReload: true}
security:
  signing:
    mode: required
    keys: [${keys.map((k) => `{id: k${k}, file: key-${k}}`).join(', ')}]
listeners:
  - {name: r, group: ${GROUP}, port: ${port}, interfaces: [127.0.0.1], retention: 1h}
`;
}

async function openSender(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  s.setMulticastInterface('127.0.0.1');
  s.setMulticastLoopback(true);
  return s;
}

function send(s: Socket, port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => s.send(bytes, port, GROUP, (e) => (e ? reject(e) : resolve())));
}

function signed(port: number, goodbye: boolean): Buffer {
  const signer = createSigner({ keyId: 'ka', key: Buffer.from(KEY_A), group: GROUP, port });
  const body = encodeAnnouncement(
    { type: 'replay', name: 'victim', addr: '198.18.0.9:1' },
    { ttl: 3600, seq: goodbye ? 2 : 1, ...(goodbye ? { goodbye: true } : {}) },
  );
  return signer.sign(body);
}

async function state(t: TestAgent): Promise<string | undefined> {
  const r = await fetch(`${t.url}/api/v1/services`);
  const { services } = (await r.json()) as { services: { name: string; state: string }[] };
  return services.find((s) => s.name === 'victim')?.state;
}

const replayed = (t: TestAgent) => t.agent.listenerEntry('r')?.listener.stats.dropped.replayed ?? 0;
const files = { 'key-a': KEY_A, 'key-b': KEY_B };

describe.skipIf(!IN_TEST_NETNS)('replay across reloads and restarts', () => {
  it('refuses a recorded announcement replayed after a key-rotation reload', async () => {
    const port = await freeUdpPort();
    const t = await startTestAgent(config(port, 'a'), files);
    agents.push(t);
    sender = await openSender();
    const recorded = signed(port, false);
    await send(sender, port, recorded);
    await waitFor(async () => (await state(t)) === 'up', 'the service up', 10_000);
    await send(sender, port, signed(port, true));
    await waitFor(async () => (await state(t)) === 'gone', 'the goodbye', 10_000);

    await t.writeConfig(config(port, 'b'));
    expect(await t.agent.requestReload()).toEqual({ ok: true });
    await send(sender, port, recorded);
    await waitFor(async () => replayed(t) === 1, 'the replay dropped as replayed', 10_000);
    // Gone, or forgotten by a listener the reload re-created: never back up.
    expect(await state(t)).not.toBe('up');
  });

  it('accepts no signed datagram stamped before the agent started', async () => {
    const port = await freeUdpPort();
    // Recorded while an earlier agent ran; that agent then went away (a restart).
    const recorded = signed(port, false);
    await new Promise((r) => setTimeout(r, 20));
    const t = await startTestAgent(config(port, 'a'), files);
    agents.push(t);
    sender = await openSender();
    await send(sender, port, recorded);
    await waitFor(async () => replayed(t) === 1, 'the recording dropped as replayed', 10_000);
    expect(await state(t)).toBeUndefined();
    // A fresh announcement from the same sender is accepted.
    await send(sender, port, signed(port, false));
    await waitFor(async () => (await state(t)) === 'up', 'a fresh announcement accepted', 10_000);
  });
});

describe.skipIf(!IN_TEST_NETNS)('replay memory per listener', () => {
  it('two listeners on one group and port both accept each signed announcement once', async () => {
    const port = await freeUdpPort();
    // Both sockets are bound to the group and port: the kernel hands each of them every datagram.
    const t = await startTestAgent(
      `
http: {listen: "@HTTP@"}
security: {signing: {mode: required, keys: [{id: ka, file: key-a}]}}
listeners:
  - {name: r, group: ${GROUP}, port: ${port}, interfaces: [127.0.0.1]}
  - {name: r2, group: ${GROUP}, port: ${port}, interfaces: [lo]}
`,
      files,
    );
    agents.push(t);
    sender = await openSender();
    await send(sender, port, signed(port, false));
    const accepted = (name: string) => t.agent.listenerEntry(name)?.listener.stats.accepted ?? 0;
    await waitFor(() => accepted('r') === 1 && accepted('r2') === 1, 'both listeners accepting it', 10_000);
    expect(replayed(t)).toBe(0);
    expect(t.agent.listenerEntry('r2')?.listener.stats.dropped.replayed).toBe(0);
  });
});
