/**
 * What an application moving from the Python original relies on, over real sockets on one host: a string
 * message leaves byte for byte, every JSON object reaches the callback, lenient announcements are services
 * with their unusable fields counted (not errors), and `open()` is the original's `with` block.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import type { Announcement } from '../../src/discovery/types.js';
import { ORIGINAL_SIX } from '../fixtures/datagrams/lenient.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const LO = '127.0.0.1';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A plain socket joined to the group on loopback: it sees the datagrams exactly as they crossed the wire. */
async function rawReceiver(group: string, port: number): Promise<{ datagrams: Buffer[] }> {
  const sock: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  const datagrams: Buffer[] = [];
  sock.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => sock.bind(port, group, () => r()));
  sock.addMembership(group, LO);
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return { datagrams };
}

async function sender(): Promise<Socket> {
  const tx = createSocket('udp4');
  cleanups.push(() => new Promise<void>((r) => tx.close(() => r())));
  await new Promise<void>((r) => tx.bind(0, LO, () => r()));
  tx.setMulticastInterface(LO);
  return tx;
}

describe.skipIf(!IN_TEST_NETNS)('fidelity to the original', () => {
  it('a string message arrives byte for byte, every time and after updateMessage(), and no goodbye follows it', async () => {
    const group = '239.21.0.1';
    const port = await freeUdpPort();
    const rx = await rawReceiver(group, port);
    // A JSON object as text, with the application's own timestamp and seq, spaced as the application wrote it.
    const first =
      '{"type": "VaultLibrary", "addr": "127.0.0.1:8200", "timestamp": 1700000000.25, "seq": "mine"}';
    const second = '{"type":"VaultLibrary","addr":"127.0.0.1:8201","ttl":"60"}';
    const p = new VaultMultiPublisher({ group, port, interfaces: LO, interval: 0.1, message: first });
    cleanups.push(() => p.stop());
    await p.start();
    await waitFor(() => rx.datagrams.length >= 3, 'three announcements', 10_000);
    p.updateMessage(second);
    const switched = rx.datagrams.length;
    await waitFor(() => rx.datagrams.length >= switched + 3, 'three more after updateMessage()', 10_000);
    await p.stop();
    const texts = rx.datagrams.map((d) => d.toString('utf8'));
    const firstPart = texts.slice(0, 3);
    expect(firstPart).toEqual([first, first, first]);
    // Every datagram is one of the two strings exactly: no seq, no timestamp, no goodbye added on stop.
    expect(texts.every((t) => t === first || t === second)).toBe(true);
    expect(texts.slice(-3)).toEqual([second, second, second]);
  });

  it('an object message gets the extensions, never over a key the application set', async () => {
    const group = '239.21.0.2';
    const port = await freeUdpPort();
    const rx = await rawReceiver(group, port);
    const message = { type: 'VaultLibrary', addr: '127.0.0.1:8200', timestamp: 1700000000.25 };
    const p = new VaultMultiPublisher({
      group,
      port,
      interfaces: LO,
      interval: 0.1,
      message,
      announceTtl: 30,
    });
    cleanups.push(() => p.stop());
    await p.start();
    await waitFor(() => rx.datagrams.length >= 2, 'two announcements', 10_000);
    const sent = rx.datagrams.map((d) => JSON.parse(d.toString('utf8')) as Record<string, unknown>);
    expect(sent[0]).toEqual({ ...message, seq: 0, ttl: 30 });
    expect(sent[1]).toEqual({ ...message, seq: 1, ttl: 30 });
  });

  it('every JSON object reaches the callback and `message`; one that is not a service is counted apart, not as an error', async () => {
    const group = '239.21.0.3';
    const port = await freeUdpPort();
    const fromCallback: [Record<string, unknown>, Announcement | undefined][] = [];
    const fromEvent: Record<string, unknown>[] = [];
    const l = await VaultMultiListener.open({
      group,
      port,
      interfaces: LO,
      callback: (data, a) => fromCallback.push([data, a]),
    });
    cleanups.push(() => l.stop());
    l.on('message', (data) => fromEvent.push(data));
    const tx = await sender();
    const objects = [{ hello: 'world' }, { type: 'no-address' }, { type: 'svc', addr: '192.0.2.1:1' }];
    for (const o of objects) tx.send(Buffer.from(JSON.stringify(o)), port, group);
    tx.send(Buffer.from('there is nothing to see'), port, group);
    await waitFor(() => l.stats.packetsReceived === 4, 'four datagrams', 10_000);
    expect(fromCallback.map(([d]) => d)).toEqual(objects);
    expect(fromCallback.map(([, a]) => a?.addr)).toEqual([undefined, undefined, '192.0.2.1:1']);
    expect(fromEvent).toEqual(objects);
    const m = l.getMetrics();
    expect(m.dropped).toMatchObject({ missing_type: 1, missing_addr: 1, not_json: 1 });
    // Only the original's own error (invalid JSON) counts: as in the original, errors 1.
    expect(m.errors).toBe(1);
    expect(m.active_services).toBe(1);
  });

  it("the issue's six lenient messages are six services, zero errors, their unusable fields counted by field", async () => {
    const group = '239.21.0.4';
    const port = await freeUdpPort();
    const l = await VaultMultiListener.open({ group, port, interfaces: LO });
    cleanups.push(() => l.stop());
    const tx = await sender();
    for (let round = 0; round < 2; round++) {
      for (const f of ORIGINAL_SIX) tx.send(Buffer.from(JSON.stringify(f.message)), port, group);
    }
    await waitFor(() => l.stats.packetsReceived === 12, 'twelve datagrams', 10_000);
    const m = l.getMetrics();
    expect(m).toMatchObject({ errors: 0, accepted: 12, active_services: 6 });
    expect(Object.values(m.dropped).every((n) => n === 0)).toBe(true);
    expect(m.ignored_fields).toMatchObject({ timestamp: 2, ttl: 2, name: 0, version: 0 });
    const addrs = [...l.registry.services()].map((r) => r.addr).sort();
    expect(addrs).toEqual(ORIGINAL_SIX.map((f) => f.expect.addr).sort());
    // The static timestamp is not a sending time: no age.
    expect([...l.registry.services()].every((r) => r.ageSeconds === undefined)).toBe(true);
  });

  it('extensions: false leaves ttl, seq, timestamp, goodbye and metrics_port to the application', async () => {
    const group = '239.21.0.5';
    const port = await freeUdpPort();
    const l = await VaultMultiListener.open({ group, port, interfaces: LO, extensions: false });
    cleanups.push(() => l.stop());
    const tx = await sender();
    const own = { type: 'app', addr: '192.0.2.5:5', ttl: 'forever', seq: 'abc', goodbye: true, timestamp: 1 };
    tx.send(Buffer.from(JSON.stringify(own)), port, group);
    await waitFor(() => l.stats.accepted === 1, 'the announcement', 10_000);
    const rec = [...l.registry.services()][0];
    // goodbye: true would have marked it gone; the ttl string would have been counted as ignored.
    expect(rec).toMatchObject({ state: 'up', ageSeconds: undefined, lastSeq: undefined, data: own });
    expect(Object.values(l.getMetrics().ignored_fields).every((n) => n === 0)).toBe(true);
  });

  it('open() returns a started publisher and listener, and await using stops both at the end of the block', async () => {
    const group = '239.21.0.6';
    const port = await freeUdpPort();
    let seen: VaultMultiListener;
    let sent: VaultMultiPublisher;
    {
      await using l = await VaultMultiListener.open({ group, port, interfaces: LO });
      await using p = await VaultMultiPublisher.open({
        group,
        port,
        interfaces: LO,
        interval: 0.1,
        message: { type: 'with', addr: '192.0.2.6:6' },
      });
      seen = l;
      sent = p;
      expect(l.isRunning() && p.isRunning()).toBe(true);
      await waitFor(() => l.registry.counts().up === 1, 'the service up', 10_000);
    }
    expect(seen.isRunning()).toBe(false);
    expect(sent.isRunning()).toBe(false);
  });

  it('open() rejects like start() and leaves nothing running', async () => {
    const port = await freeUdpPort();
    const holder = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
    await new Promise<void>((r) => holder.bind(port, '239.21.0.7', () => r()));
    await expect(
      VaultMultiListener.open({ group: '239.21.0.7', port, interfaces: LO, reuseAddr: false }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
