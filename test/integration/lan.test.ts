/**
 * Publisher and listener on different hosts of one Ethernet segment (namespaces on a bridge), IPv4 and IPv6:
 * what a user of the library depends on first — announcements cross the wire, services appear and leave.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, type Lan, NETNS_AVAILABLE } from '../harness/netns.js';
import { Probe } from './helpers/probe.js';

const message = (name: string, addr: unknown) => ({ type: 'vault', name, addr, version: '1.2.3' });

describe.skipIf(!NETNS_AVAILABLE)('announcements across a LAN', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan({ hosts: 3, ipv6: true });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('IPv4: a publisher on one host is discovered by a listener on another, then says goodbye', async () => {
    const [a, b] = lan.hosts;
    if (!a || !b) throw new Error('hosts missing');
    const listener = Probe.listen(b, { group: '239.7.7.7', port: 5004, interfaces: 'lan0' });
    expect((await listener.started()).event).toBe('started');
    const publisher = Probe.publish(a, {
      group: '239.7.7.7',
      port: 5004,
      interfaces: 'lan0',
      interval: 0.2,
      message: message('node-a', `${a.ipv4}:8200`),
    });
    expect((await publisher.started()).event).toBe('started');
    const up = await listener.waitFor((e) => e.event === 'up', 'service up');
    expect(up).toMatchObject({ type: 'vault', name: 'node-a', addr: `${a.ipv4}:8200`, source: a.ipv4 });
    await publisher.stop();
    const down = await listener.waitFor((e) => e.event === 'down', 'goodbye', 1000);
    expect(down).toMatchObject({ reason: 'goodbye', state: 'gone' });
    const metrics = (await listener.request('metrics')).metrics as Record<string, number>;
    expect(metrics.active_services).toBe(0);
    expect(metrics.packets_received).toBeGreaterThanOrEqual(2);
    expect(metrics.packets_sent).toBe(0);
    await listener.stop();
  });

  it('three hosts: both listeners discover the one publisher', async () => {
    const [a, b, c] = lan.hosts;
    if (!a || !b || !c) throw new Error('hosts missing');
    // One by name, one with 'all' (lan0 is the only up, multicast-capable interface there; lo has no MULTICAST flag).
    const listeners = [
      Probe.listen(b, { group: '239.7.7.8', port: 5010, interfaces: ['lan0'] }),
      Probe.listen(c, { group: '239.7.7.8', port: 5010, interfaces: 'all' }),
    ];
    for (const l of listeners) expect((await l.started()).event).toBe('started');
    expect((await listeners[1]?.request('memberships'))?.memberships).toEqual([
      { interface: 'lan0', address: c.ipv4, joined: true },
    ]);
    const publisher = Probe.publish(a, {
      group: '239.7.7.8',
      port: 5010,
      interfaces: a.ipv4,
      interval: 0.2,
      message: message('three', [a.ipv4, 9000]),
    });
    await publisher.started();
    for (const l of listeners) {
      const up = await l.waitFor((e) => e.event === 'up', 'service up');
      expect(up).toMatchObject({ name: 'three', addr: `${a.ipv4}:9000` });
    }
    await publisher.stop();
    for (const l of listeners) await l.stop();
  });

  for (const group of ['ff02::7:1', 'ff05::7:2']) {
    it(`IPv6 ${group}: discovered across the LAN with interface lan0`, async () => {
      const [a, b] = lan.hosts;
      if (!a || !b) throw new Error('hosts missing');
      const listener = Probe.listen(b, { group, port: 5020, interfaces: 'lan0' });
      expect((await listener.started()).event).toBe('started');
      const publisher = Probe.publish(a, {
        group,
        port: 5020,
        interfaces: 'lan0',
        interval: 0.2,
        message: message('v6', `[${a.ipv6}]:8200`),
      });
      expect((await publisher.started()).event).toBe('started');
      const up = await listener.waitFor((e) => e.event === 'up', 'service up over IPv6');
      expect(up).toMatchObject({ name: 'v6', addr: `[${a.ipv6}]:8200` });
      await publisher.stop();
      await listener.waitFor((e) => e.event === 'down', 'goodbye over IPv6', 1000);
      await listener.stop();
    });
  }

  it('a listener never transmits: no UDP leaves its host while it receives, hostile datagrams included', async () => {
    const [a, b] = lan.hosts;
    if (!a || !b) throw new Error('hosts missing');
    const sniffer = b.run(
      'python3',
      [fileURLToPath(new URL('../interop/sniff_udp.py', import.meta.url)), 'lan0', '3'],
      {
        timeoutMs: 10_000,
      },
    );
    const listener = Probe.listen(b, { group: '239.7.7.9', port: 5040, interfaces: 'lan0' });
    await listener.started();
    const publisher = Probe.publish(a, {
      group: '239.7.7.9',
      port: 5040,
      interfaces: 'lan0',
      interval: 0.1,
      message: message('q', `${a.ipv4}:1`),
    });
    await publisher.started();
    const junk = Probe.publish(a, {
      group: '239.7.7.9',
      port: 5040,
      interfaces: 'lan0',
      interval: 0.1,
      message: '{"type": "x", "addr": 7',
    });
    await junk.started();
    await listener.waitFor((e) => e.event === 'drop', 'a malformed datagram to be dropped');
    const counts = JSON.parse((await sniffer).stdout.trim().split('\n').at(-1) ?? '{}') as Record<
      string,
      number
    >;
    expect(counts[a.ipv4] ?? 0).toBeGreaterThan(5);
    expect(counts[b.ipv4] ?? 0).toBe(0);
    for (const p of [publisher, junk, listener]) await p.stop();
  });

  for (const [g1, g2] of [
    ['ff05::7:3', 'ff05::7:4'],
    ['ff02::7:3', 'ff02::7:4'],
  ]) {
    it(`IPv6: listeners for ${g1} and ${g2} on one port each hear only their own group`, async () => {
      const [a, b] = lan.hosts;
      if (!a || !b) throw new Error('hosts missing');
      const port = 5050;
      const l1 = Probe.listen(b, { group: g1, port, interfaces: 'lan0' });
      const l2 = Probe.listen(b, { group: g2, port, interfaces: 'lan0' });
      await l1.started();
      await l2.started();
      const p1 = Probe.publish(a, {
        group: g1,
        port,
        interfaces: 'lan0',
        interval: 0.1,
        message: message('g1', `[${a.ipv6}]:1`),
      });
      const p2 = Probe.publish(a, {
        group: g2,
        port,
        interfaces: 'lan0',
        interval: 0.1,
        message: message('g2', `[${a.ipv6}]:2`),
      });
      await p1.started();
      await p2.started();
      const isMessage = (e: { event: string }) => e.event === 'message';
      await l1.waitFor(
        (e) => isMessage(e) && l1.count(isMessage) >= 5,
        'five announcements on the first group',
      );
      await l2.waitFor(
        (e) => isMessage(e) && l2.count(isMessage) >= 5,
        'five announcements on the second group',
      );
      const names = (p: Probe) =>
        new Set(p.events.filter(isMessage).map((e) => (e.data as { name: string }).name));
      expect(names(l1)).toEqual(new Set(['g1']));
      expect(names(l2)).toEqual(new Set(['g2']));
      for (const p of [p1, p2, l1, l2]) await p.stop();
    });
  }
});
