/**
 * One host (the throwaway namespace the suite runs in, only `lo`): group isolation on a shared port, clear
 * start-up errors, expiry at the timeout, goodbye, and the listener's metrics view.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMulticastError } from '../../src/discovery/errors.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { resolveInterfaces } from '../../src/discovery/net/interfaces.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import type { SocketProblem } from '../../src/discovery/types.js';
import { freeUdpPort, IN_TEST_NETNS, sh, waitFor } from '../harness/netns.js';

const LO = '127.0.0.1';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function listener(opts: ConstructorParameters<typeof VaultMultiListener>[0]): VaultMultiListener {
  const l = new VaultMultiListener({ interfaces: LO, ...opts });
  cleanups.push(() => l.stop());
  return l;
}

function publisher(opts: ConstructorParameters<typeof VaultMultiPublisher>[0]): VaultMultiPublisher {
  const p = new VaultMultiPublisher({ interfaces: LO, interval: 0.1, ...opts });
  cleanups.push(() => p.stop());
  return p;
}

describe.skipIf(!IN_TEST_NETNS)('one host', () => {
  it('two listeners on one port for different groups each see only their own group', async () => {
    const port = await freeUdpPort();
    const la = listener({ group: '239.20.0.1', port });
    const lb = listener({ group: '239.20.0.2', port });
    await la.start();
    await lb.start();
    const pa = publisher({ group: '239.20.0.1', port, message: { type: 'a', addr: '192.0.2.1:1' } });
    const pb = publisher({ group: '239.20.0.2', port, message: { type: 'b', addr: '192.0.2.2:2' } });
    await pa.start();
    await pb.start();
    // Unicast to the port must not reach a listener bound to its group either.
    const stray = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => stray.close(() => r())));
    stray.send(JSON.stringify({ type: 'c', addr: '192.0.2.3:3' }), port, LO);
    await waitFor(() => la.stats.accepted >= 5 && lb.stats.accepted >= 5, 'both listeners to receive', 5000);
    expect([...la.registry.services()].map((s) => s.type)).toEqual(['a']);
    expect([...lb.registry.services()].map((s) => s.type)).toEqual(['b']);
    expect(la.stats.packetsReceived).toBe(la.stats.accepted);
    expect(lb.stats.packetsReceived).toBe(lb.stats.accepted);
  });

  it('start() rejects with EADDRINUSE when a socket without SO_REUSEADDR holds the port', async () => {
    const holder: Socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => holder.bind(0, '0.0.0.0', () => r()));
    cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
    const l = listener({ group: '239.20.0.3', port: holder.address().port });
    const err = await l.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VaultMulticastError);
    expect((err as VaultMulticastError).code).toBe('EADDRINUSE');
    expect((err as Error).message).toMatch(/239\.20\.0\.3:\d+.*EADDRINUSE/);
    expect(l.isRunning()).toBe(false);
  });

  it('a missing interface is reported (socketError ENODEV, membership not joined), not thrown', async () => {
    const port = await freeUdpPort();
    const problems: SocketProblem[] = [];
    const l = listener({ group: '239.20.0.4', port, interfaces: ['nosuch0', LO] });
    l.on('socketError', (p) => problems.push(p));
    await l.start();
    expect(l.memberships()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ interface: 'nosuch0', joined: false, error: 'ENODEV' }),
        expect.objectContaining({ interface: LO, joined: true }),
      ]),
    );
    expect(problems).toEqual([
      expect.objectContaining({ operation: 'join', code: 'ENODEV', interface: 'nosuch0' }),
    ]);
    // The interface that exists still works.
    const p = publisher({ group: '239.20.0.4', port, message: { type: 't', addr: '192.0.2.4:4' } });
    await p.start();
    await waitFor(() => l.stats.accepted > 0, 'reception on the good interface', 5000);

    const sendProblems: SocketProblem[] = [];
    const bad = publisher({ group: '239.20.0.4', port, interfaces: 'nosuch0' });
    bad.on('socketError', (e) => sendProblems.push(e));
    await bad.start();
    await waitFor(() => (bad.stats.sendErrors.ENODEV ?? 0) > 0, 'the refused send to be counted', 5000);
    expect(bad.stats.packetsSent).toBe(0);
    expect(sendProblems[0]).toMatchObject({
      operation: 'setInterface',
      code: 'ENODEV',
      interface: 'nosuch0',
    });
  });

  it('a service expires at its timeout and stays listed as stale; goodbye marks it gone at once', async () => {
    const port = await freeUdpPort();
    const l = listener({ group: '239.20.0.5', port, serviceTimeout: 1.5 });
    await l.start();
    const p = publisher({
      group: '239.20.0.5',
      port,
      goodbye: false,
      message: { type: 'e', addr: '192.0.2.5:5' },
    });
    await p.start();
    await waitFor(() => l.getMetrics().active_services === 1, 'service up', 5000);
    await p.stop();
    const lastHeard = performance.now();
    const down = await new Promise<{ reason: string; state: string }>((resolve) =>
      l.once('down', (rec, reason) => resolve({ reason, state: rec.state })),
    );
    const after = performance.now() - lastHeard;
    expect(down).toEqual({ reason: 'expired', state: 'stale' });
    expect(after).toBeGreaterThanOrEqual(1400);
    expect(l.getMetrics().active_services).toBe(0);
    expect(l.getMetrics().services.stale).toBe(1);

    const q = publisher({ group: '239.20.0.5', port, message: { type: 'g', addr: '192.0.2.6:6' } });
    await q.start();
    await waitFor(() => l.registry.counts().up === 1, 'second service up', 5000);
    const gone = new Promise<string>((resolve) => l.once('down', (_rec, reason) => resolve(reason)));
    await q.stop();
    expect(await gone).toBe('goodbye');
    expect(l.getMetrics()).toMatchObject({ active_services: 0, goodbyes: 1 });
  });

  it('resetMetrics() zeroes the view, active_services included, and keeps lifetime stats; callback errors are counted, not thrown', async () => {
    const port = await freeUdpPort();
    const seen: unknown[] = [];
    const l = listener({
      group: '239.20.0.6',
      port,
      callback: (data) => {
        seen.push(data);
        throw new Error('application bug');
      },
    });
    await l.start();
    const p = publisher({
      group: '239.20.0.6',
      port,
      message: { type: 'm', addr: '192.0.2.7:7', extra: 'kept' },
    });
    await p.start();
    await waitFor(() => l.stats.accepted >= 3, 'three announcements', 5000);
    expect(seen[0]).toMatchObject({ type: 'm', addr: '192.0.2.7:7', extra: 'kept' });
    expect(l.stats.callbackErrors).toBeGreaterThanOrEqual(3);
    const before = l.stats.packetsReceived;
    const accepted = l.stats.accepted;
    l.resetMetrics();
    const m = l.getMetrics();
    expect(m.packets_received).toBe(0);
    expect(m.errors).toBe(0);
    // As the original's 2.1.0: active_services is zeroed too, then counts the services announced since.
    expect(m.active_services).toBe(0);
    expect(l.stats.packetsReceived).toBe(before);
    expect(l.registry.counts().up).toBe(1);
    await waitFor(() => l.stats.accepted > accepted, 'an announcement after the reset', 5000);
    expect(l.getMetrics().active_services).toBe(1);
    expect(Object.keys(m)).toEqual(
      expect.arrayContaining([
        'packets_sent',
        'packets_received',
        'bytes_sent',
        'bytes_received',
        'errors',
        'active_services',
        'uptime_seconds',
        'packets_per_second',
      ]),
    );
  });

  it('a message over maxBytes is refused with EMSGSIZE, and the old message stays', () => {
    const p = new VaultMultiPublisher({ message: { type: 'x', addr: '192.0.2.8:8' } });
    expect(() => p.updateMessage({ type: 'x', addr: '192.0.2.8:8', pad: 'y'.repeat(1400) })).toThrow(
      expect.objectContaining({
        code: 'EMSGSIZE',
        message: expect.stringMatching(/over the 1400-byte limit/),
      }),
    );
    expect(p.message).toEqual({ type: 'x', addr: '192.0.2.8:8' });
    expect(() => new VaultMultiPublisher({ message: 'z'.repeat(1401) })).toThrow(VaultMulticastError);
  });

  it('await using stops the listener and publisher', async () => {
    const port = await freeUdpPort();
    let l: VaultMultiListener;
    let p: VaultMultiPublisher;
    {
      await using listener = new VaultMultiListener({ group: '239.20.0.7', port, interfaces: LO });
      await using pub = new VaultMultiPublisher({ group: '239.20.0.7', port, interfaces: LO });
      l = listener;
      p = pub;
      await listener.start();
      await pub.start();
      expect(listener.isRunning() && pub.isRunning()).toBe(true);
    }
    expect(l.isRunning()).toBe(false);
    expect(p.isRunning()).toBe(false);
  });

  it('reports the receive buffer the kernel granted and warns when net.core.rmem_max caps it', async () => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    const warnings: string[] = [];
    const capped = listener({
      group: '239.20.0.8',
      port: await freeUdpPort(),
      receiveBufferSize: rmemMax * 2,
    });
    capped.on('warning', (w) => warnings.push(w));
    await capped.start();
    await new Promise((r) => setImmediate(r));
    // Linux reports twice the granted size (bookkeeping overhead); granted is capped at rmem_max.
    expect(capped.receiveBufferBytes).toBe(rmemMax * 2);
    expect(warnings).toEqual([
      expect.stringMatching(/capped at \d+ bytes by net\.core\.rmem_max.*sysctl -w net\.core\.rmem_max=/),
    ]);
    expect(capped.getMetrics().receive_buffer_bytes).toBe(rmemMax * 2);

    const fits: string[] = [];
    const small = listener({ group: '239.20.0.9', port: await freeUdpPort(), receiveBufferSize: 65536 });
    small.on('warning', (w) => fits.push(w));
    await small.start();
    await new Promise((r) => setImmediate(r));
    expect(small.receiveBufferBytes).toBe(131072);
    expect(fits).toEqual([]);
  });

  it('survives an interface re-created under the same address 30 times (no dead memberships pile up)', async () => {
    // Linux keeps a dead membership on the socket when its interface goes, and allows a socket only 20 IPv4
    // memberships: without a socket replacement the 21st re-join would fail with ENOBUFS.
    const plug = async (): Promise<void> => {
      await sh('ip', ['link', 'add', 'vmr0', 'type', 'veth', 'peer', 'name', 'vmr1']);
      await sh('ip', ['addr', 'add', '198.18.251.1/24', 'dev', 'vmr0']);
      await sh('ip', ['link', 'set', 'vmr0', 'up']);
      await sh('ip', ['link', 'set', 'vmr1', 'up']);
    };
    await plug();
    cleanups.push(() =>
      sh('ip', ['link', 'del', 'vmr0']).then(
        () => undefined,
        () => undefined,
      ),
    );
    await waitFor(
      () => resolveInterfaces(['vmr0'], 'IPv4')[0]?.error === undefined,
      'vmr0 to be usable',
      5000,
    );
    const l = listener({
      group: '239.20.0.10',
      port: await freeUdpPort(),
      interfaces: 'vmr0',
      reconcileInterval: 600_000,
    });
    const problems: SocketProblem[] = [];
    let restored = 0;
    l.on('socketError', (p) => problems.push(p));
    l.on('warning', (w) => {
      if (w.includes('restored')) restored++;
    });
    await l.start();
    for (let i = 0; i < 30; i++) {
      await sh('ip', ['link', 'del', 'vmr0']);
      await plug();
      await waitFor(
        () => resolveInterfaces(['vmr0'], 'IPv4')[0]?.error === undefined,
        'vmr0 to be usable',
        5000,
      );
      l.reconcile();
      await waitFor(() => l.memberships()[0]?.joined === true, 'the membership back', 5000);
    }
    expect(problems).toEqual([]);
    expect(restored).toBe(30);
    expect(l.memberships()).toEqual([
      { interface: 'vmr0', address: '198.18.251.1', joined: true, error: undefined },
    ]);
  });

  it('after an event-loop stall the publisher sends one announcement, not a catch-up burst', async () => {
    const p = publisher({ group: '239.20.0.11', port: await freeUdpPort(), interval: 0.05, jitter: 0 });
    const times: number[] = [];
    p.on('announced', () => times.push(performance.now()));
    await p.start();
    await waitFor(() => times.length >= 2, 'two announcements', 5000);
    const stallEnd = performance.now() + 600;
    while (performance.now() < stallEnd) {
      // A synchronous stall, as a long GC or a blocking call would cause (12 intervals long).
    }
    await new Promise((r) => setTimeout(r, 30));
    const burst = times.filter((t) => t >= stallEnd).length;
    expect(burst).toBeLessThanOrEqual(1);
  });

  it('a signer that throws is counted and reported on every announcement, never thrown into a timer', async () => {
    let fail = false;
    const signer = {
      sign(bytes: Buffer): Buffer {
        if (fail) throw new Error('key store offline');
        return bytes;
      },
    };
    const p = publisher({
      group: '239.20.0.12',
      port: await freeUdpPort(),
      interval: 0.05,
      signer,
      message: { type: 's', addr: '192.0.2.12:1' },
    });
    const problems: SocketProblem[] = [];
    p.on('socketError', (e) => problems.push(e));
    await p.start();
    await waitFor(() => p.stats.packetsSent > 0, 'a signed send', 5000);
    fail = true;
    await waitFor(() => (p.stats.sendErrors.EENCODE ?? 0) >= 3, 'three failed announcements', 5000);
    expect(p.isRunning()).toBe(true);
    expect(problems[0]).toMatchObject({
      operation: 'send',
      code: 'EENCODE',
      message: expect.stringMatching(/key store offline/),
    });
    fail = false;
    const sent = p.stats.packetsSent;
    await waitFor(() => p.stats.packetsSent > sent, 'sending to resume', 5000);
  });

  it("a throwing handler on the listener's or the registry's events is counted, not fatal", async () => {
    const port = await freeUdpPort();
    const l = listener({ group: '239.20.0.13', port });
    l.on('up', () => {
      throw new Error('listener handler bug');
    });
    l.registry.on('update', () => {
      throw new Error('registry handler bug');
    });
    await l.start();
    const p = publisher({ group: '239.20.0.13', port, message: { type: 'h', addr: '192.0.2.13:1' } });
    await p.start();
    await waitFor(() => l.stats.accepted >= 4, 'four announcements', 5000);
    expect(l.stats.callbackErrors).toBeGreaterThanOrEqual(4);
    expect(l.registry.counts().up).toBe(1);
    expect(l.isRunning()).toBe(true);
  });

  it('byte-identical announcements (the original repeats one message) reach callbacks as objects of their own', async () => {
    const port = await freeUdpPort();
    const seen: Record<string, unknown>[] = [];
    const l = listener({
      group: '239.20.0.14',
      port,
      callback: (data) => {
        seen.push(data);
        data.mutated = seen.length;
      },
    });
    await l.start();
    const tx = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => tx.close(() => r())));
    await new Promise<void>((r) => tx.bind(0, LO, () => r()));
    tx.setMulticastInterface(LO);
    const bytes = Buffer.from(JSON.stringify({ type: 'same', addr: '192.0.2.14:1', version: '1' }));
    for (let i = 0; i < 5; i++) tx.send(bytes, port, '239.20.0.14');
    await waitFor(() => seen.length === 5, 'five deliveries', 5000);
    expect(new Set(seen).size).toBe(5);
    expect(seen.map((d) => d.mutated)).toEqual([1, 2, 3, 4, 5]);
    expect(l.registry.counts().up).toBe(1);
    expect([...l.registry.services()][0]?.packets).toBe(5);
  });
});
