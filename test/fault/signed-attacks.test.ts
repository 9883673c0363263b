/**
 * Signed announcements on real sockets (multicast on 127.0.0.1 inside the test namespace): a genuine signed
 * publisher is heard; an unsigned one, a wrong key, a spoofed or truncated signature, a captured datagram
 * replayed (again, or into another group) are each dropped with their own reason, and nothing of theirs
 * reaches the registry.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { DropReason } from '../../src/discovery/drop-reasons.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { createReceiveGuards, createSigner } from '../../src/discovery/security/index.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const LO = '127.0.0.1';
const KEY = { id: 'site-2026', key: Buffer.from('0123456789abcdef0123456789abcdef-attack-suite') };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function signedListener(group: string, port: number): VaultMultiListener {
  const l = new VaultMultiListener({
    group,
    port,
    interfaces: LO,
    guards: createReceiveGuards({ group, port, signing: { mode: 'required', keys: [KEY] } }),
  });
  cleanups.push(() => l.stop());
  return l;
}

async function rawSocket(group?: string, port?: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reuseAddr: true });
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  await new Promise<void>((r) => s.bind(port ?? 0, group ?? LO, () => r()));
  s.setMulticastInterface(LO);
  if (group) s.addMembership(group, LO);
  return s;
}

function send(s: Socket, bytes: Buffer | string, group: string, port: number): Promise<void> {
  return new Promise((r, j) => s.send(bytes, port, group, (err) => (err ? j(err) : r())));
}

function dropsOf(l: VaultMultiListener, reason: DropReason): number {
  return l.stats.dropped[reason];
}

describe.skipIf(!IN_TEST_NETNS)('signed announcements under attack, on real sockets', () => {
  it('hears the genuine publisher and drops each attack with its own reason', async () => {
    const group = '239.71.0.1';
    const port = await freeUdpPort();
    const l = signedListener(group, port);
    await l.start();
    // A bystander on the group records what the genuine publisher sends.
    const sniffer = await rawSocket(group, port);
    const captured: Buffer[] = [];
    sniffer.on('message', (m) => captured.push(m));

    const genuine = new VaultMultiPublisher({
      group,
      port,
      interfaces: LO,
      interval: 0.2,
      message: { type: 'vault', name: 'real', addr: '198.18.0.10:8200' },
      signer: createSigner({ keyId: KEY.id, key: KEY.key, group, port }),
    });
    cleanups.push(() => genuine.stop());
    await genuine.start();
    await waitFor(() => l.registry.size === 1 && captured.length >= 1, 'the genuine service', 5000);
    await genuine.stop();
    await waitFor(() => captured.some((c) => c.includes('"goodbye":true')), 'the goodbye', 3000);
    const acceptedBefore = l.stats.accepted;
    const recorded = captured[0]!;
    const attacker = await rawSocket();

    // Unsigned, as the original publisher sends it.
    await send(
      attacker,
      JSON.stringify({ type: 'vault', name: 'fake', addr: '203.0.113.66:8200' }),
      group,
      port,
    );
    // Signed with a key the listener does not have, under its key id.
    const wrongKey = createSigner({ keyId: KEY.id, key: Buffer.alloc(32, 9), group, port });
    await send(attacker, wrongKey.sign(Buffer.from('{"type":"vault","addr":"203.0.113.66:1"}')), group, port);
    // Signed under a key id the listener does not know.
    const unknown = createSigner({ keyId: 'stolen', key: Buffer.alloc(32, 9), group, port });
    await send(attacker, unknown.sign(Buffer.from('{"type":"vault","addr":"203.0.113.66:2"}')), group, port);
    // A captured signature pasted onto another body.
    const sig = /,"sig":"[^"]+"\}$/.exec(recorded.toString())?.[0] ?? '';
    await send(attacker, `{"type":"vault","addr":"203.0.113.66:3"${sig}`, group, port);
    // The captured datagram with its signature cut short.
    await send(
      attacker,
      Buffer.concat([recorded.subarray(0, recorded.length - 12), Buffer.from('"}')]),
      group,
      port,
    );
    // The captured datagram, replayed verbatim.
    await send(attacker, recorded, group, port);

    await waitFor(() => l.stats.packetsReceived >= acceptedBefore + 6, 'six attack datagrams', 5000);
    expect(dropsOf(l, 'signature_missing')).toBe(1);
    expect(dropsOf(l, 'unknown_key')).toBe(1);
    expect(dropsOf(l, 'signature_invalid')).toBe(3);
    expect(dropsOf(l, 'replayed')).toBe(1);
    expect(l.stats.accepted).toBe(acceptedBefore);
    expect([...l.registry.services()].map((s) => s.addr)).toEqual(['198.18.0.10:8200']);
  });

  it('drops a datagram recorded on one group and replayed into another (the MAC covers the group)', async () => {
    const port = await freeUdpPort();
    const a = '239.71.0.2';
    const b = '239.71.0.3';
    const lb = signedListener(b, port);
    await lb.start();
    const signerA = createSigner({ keyId: KEY.id, key: KEY.key, group: a, port });
    const recordedOnA = signerA.sign(
      Buffer.from('{"type":"vault","name":"a-only","addr":"198.18.0.11:8200"}'),
    );
    const attacker = await rawSocket();
    await send(attacker, recordedOnA, b, port);
    // And the same body signed for b goes through: the key and the listener are fine.
    const signerB = createSigner({ keyId: KEY.id, key: KEY.key, group: b, port });
    await send(
      attacker,
      signerB.sign(Buffer.from('{"type":"vault","name":"b","addr":"198.18.0.12:8200"}')),
      b,
      port,
    );
    await waitFor(() => lb.stats.packetsReceived >= 2, 'both datagrams', 5000);
    expect(dropsOf(lb, 'signature_invalid')).toBe(1);
    expect([...lb.registry.services()].map((s) => s.name)).toEqual(['b']);
  });
});
