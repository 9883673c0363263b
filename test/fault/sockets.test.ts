/**
 * Socket faults, each reported (an event and a counter), survived without a crash and recovered from
 * without a restart: more memberships than the kernel allows on one socket (IGMP max_memberships, 20 by
 * default), a send with no route, a datagram too big for UDP, an interface taken down, and an address that
 * changes under a running listener and publisher.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { readUdpSockets } from '../../src/discovery/net/proc-udp.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import type { SocketProblem } from '../../src/discovery/types.js';
import {
  createLoopbackHost,
  freeUdpPort,
  IN_TEST_NETNS,
  NETNS_AVAILABLE,
  waitFor,
} from '../harness/netns.js';
import { PROBE, Probe } from '../integration/helpers/probe.js';
import { lanPair } from './lan-pair.js';

const run = promisify(execFile);
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `count` interfaces with an address each: veth pairs in the throwaway test namespace (removed after). */
async function makeInterfaces(count: number): Promise<string[]> {
  const names: string[] = [];
  const tag = `${(process.pid % 1000).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  for (let i = 0; i < count; i += 2) {
    const pair = [`vmm${tag}a${i}`, `vmm${tag}b${i}`];
    await run('ip', ['link', 'add', pair[0]!, 'type', 'veth', 'peer', 'name', pair[1]!]);
    cleanups.push(() => run('ip', ['link', 'del', pair[0]!]).catch(() => undefined));
    for (const name of pair) {
      await run('ip', ['link', 'set', name, 'up']);
      const n = names.length;
      await run('ip', ['addr', 'add', `198.19.${200 + (n >> 8)}.${(n & 255) + 1}/32`, 'dev', name]);
      names.push(name);
    }
  }
  return names;
}

async function overfullListener(port: number, problems: SocketProblem[]) {
  const { stdout } = await run('sysctl', ['-n', 'net.ipv4.igmp_max_memberships']);
  const limit = Number(stdout.trim());
  const names = await makeInterfaces(limit + 4);
  // Loopback first, so it is among the memberships the kernel grants.
  const interfaces = ['127.0.0.1', ...names];
  const l = new VaultMultiListener({ group: '239.72.0.1', port, interfaces, reconcileInterval: 300 });
  cleanups.push(() => l.stop());
  l.on('socketError', (p) => problems.push(p));
  await l.start();
  // The listener replaces its socket once on ENOBUFS (to start from a clean membership list).
  await waitFor(() => l.memberships().length === interfaces.length, 'the membership list', 5_000);
  return { l, limit, interfaces };
}

describe.skipIf(!IN_TEST_NETNS)('memberships beyond the kernel limit', () => {
  it('joins as many interfaces as the kernel allows, reports ENOBUFS for the rest, and keeps receiving', async () => {
    const port = await freeUdpPort();
    const problems: SocketProblem[] = [];
    const { l, limit, interfaces } = await overfullListener(port, problems);
    const status = l.memberships();
    expect(status.filter((m) => m.joined).length).toBe(limit);
    const refused = status.filter((m) => !m.joined);
    expect(refused.length).toBe(interfaces.length - limit);
    expect(refused.every((m) => m.error === 'ENOBUFS')).toBe(true);
    expect(problems.some((p) => p.operation === 'join' && p.code === 'ENOBUFS')).toBe(true);
    expect(l.stats.socketErrors.ENOBUFS ?? 0).toBeGreaterThan(0);
    expect(status.find((m) => m.interface === '127.0.0.1')?.joined).toBe(true);
    const tx = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => tx.close(() => r())));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    tx.setMulticastInterface('127.0.0.1');
    await waitFor(
      () => {
        tx.send('{"type":"t","addr":"198.18.0.1:1"}', port, '239.72.0.1');
        return l.stats.accepted > 0;
      },
      'a datagram on a joined interface',
      5_000,
    );
    expect(l.isRunning()).toBe(true);
  });

  // Found by this test: the listener used to re-create its socket on every pass that met ENOBUFS again,
  // dropping the working memberships each time (fixed in src/discovery/listener.ts).
  it('keeps one socket across reconcile passes instead of re-creating it for refused joins', async () => {
    const port = await freeUdpPort();
    await overfullListener(port, []);
    const inodes = new Set<number>();
    for (let i = 0; i < 8; i++) {
      for (const sock of await readUdpSockets([{ address: '239.72.0.1', port }])) inodes.add(sock.inode);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(inodes.size, 'sockets seen over eight reconcile passes').toBe(1);
  });
});

describe.skipIf(!IN_TEST_NETNS)('a datagram too big for UDP', () => {
  it('fails that send (EMSGSIZE), counts it, and sends again once the message fits', async () => {
    const port = await freeUdpPort();
    const problems: SocketProblem[] = [];
    const p = new VaultMultiPublisher({
      group: '239.72.0.2',
      port,
      interfaces: '127.0.0.1',
      interval: 0.1,
      maxBytes: 100_000,
      message: { type: 'big', addr: '198.18.0.1:1', pad: 'x'.repeat(70_000) },
    });
    cleanups.push(() => p.stop());
    p.on('socketError', (e) => problems.push(e));
    await p.start();
    await waitFor(() => (p.stats.sendErrors.EMSGSIZE ?? 0) >= 2, 'EMSGSIZE send failures', 5_000);
    expect(problems.some((e) => e.operation === 'send' && e.code === 'EMSGSIZE')).toBe(true);
    expect(p.stats.packetsSent).toBe(0);
    p.updateMessage({ type: 'big', addr: '198.18.0.1:1' });
    await waitFor(() => p.stats.packetsSent >= 2, 'sends to resume', 5_000);
    expect(p.isRunning()).toBe(true);
  });
});

describe.skipIf(!NETNS_AVAILABLE)('send failures in a namespace of their own', () => {
  it('with no route: reported and counted, then sending resumes once a route exists, without a restart', async () => {
    const host = await createLoopbackHost();
    cleanups.push(() => host.destroy());
    // No multicast route and no interface named: the kernel has nowhere to send.
    await host.run('ip', ['link', 'set', 'lo', 'up']);
    const port = 42_000 + Math.floor(Math.random() * 1000);
    const probe = new Probe(
      host.spawn(process.execPath, [
        PROBE,
        'publish',
        JSON.stringify({
          group: '239.72.0.3',
          port,
          interval: 0.1,
          message: { type: 'r', addr: '198.18.0.1:1' },
        }),
      ]),
    );
    cleanups.push(() => probe.stop());
    await probe.started();
    await waitFor(
      () => probe.events.some((e) => e.event === 'socketError' && e.operation === 'send'),
      'a send failure',
      5_000,
    );
    const failure = probe.events.find((e) => e.event === 'socketError' && e.operation === 'send');
    expect(failure?.code).toMatch(/ENETUNREACH|EHOSTUNREACH|ENODEV|EADDRNOTAVAIL/);
    await host.run('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
    await waitFor(
      () => probe.events.some((e) => e.event === 'sent'),
      'a successful send after the route appears',
      5_000,
    );
    const m = (await probe.request('metrics')).metrics as { packets_sent: number; errors: number };
    expect(m.packets_sent).toBeGreaterThan(0);
    expect(m.errors).toBeGreaterThan(0);
  });
});

/** A listener on host b and a publisher on host a, both on lan0, announcing every 100 ms. */
async function probePair(group: string, port: number) {
  const { lan, a, b } = await lanPair();
  const listenOpts = { group, port, interfaces: 'lan0', reconcileInterval: 500 };
  const listener = new Probe(b.spawn(process.execPath, [PROBE, 'listen', JSON.stringify(listenOpts)]));
  cleanups.push(() => listener.stop());
  await listener.started();
  const message = { type: 'pair', addr: `${a.ipv4}:1` };
  const pubOpts = { group, port, interfaces: 'lan0', interval: 0.1, message };
  const pub = new Probe(a.spawn(process.execPath, [PROBE, 'publish', JSON.stringify(pubOpts)]));
  cleanups.push(() => pub.stop());
  await pub.started();
  return { lan, a, b, listener, pub };
}

describe.skipIf(!NETNS_AVAILABLE)('interfaces going down and addresses changing, on a LAN', () => {
  it('a publisher whose interface goes down counts the failures and resumes when it comes back', async () => {
    const port = 43_000 + Math.floor(Math.random() * 1000);
    const { a, listener, pub } = await probePair('239.72.0.4', port);
    await waitFor(() => listener.events.some((e) => e.event === 'up'), 'the service on b', 5_000);
    await a.run('ip', ['link', 'set', 'lan0', 'down']);
    await waitFor(
      async () => ((await pub.request('metrics')).metrics as { errors: number }).errors > 0,
      'failures while the interface is down',
      8_000,
    );
    await a.run('ip', ['link', 'set', 'lan0', 'up']);
    await a.run('ip', ['route', 'replace', '224.0.0.0/4', 'dev', 'lan0']);
    const heard = listener.events.filter((e) => e.event === 'message').length;
    await waitFor(
      () => listener.events.filter((e) => e.event === 'message').length > heard + 3,
      'announcements again after the interface is back',
      15_000,
    );
    expect(pub.child.exitCode).toBeNull();
  }, 60_000);

  it('listener and publisher named by interface follow an address change without a restart', async () => {
    const port = 44_000 + Math.floor(Math.random() * 1000);
    const { lan, a, b, listener, pub } = await probePair('239.72.0.5', port);
    await waitFor(
      () => listener.events.some((e) => e.event === 'message' && e.source === a.ipv4),
      'the first address',
      5_000,
    );
    // Renumber both hosts: a new address on the same interfaces, the old ones removed.
    const newA = `${lan.prefix}101`;
    const newB = `${lan.prefix}102`;
    for (const [h, addr, old] of [
      [a, newA, a.ipv4],
      [b, newB, b.ipv4],
    ] as const) {
      // Old one first: deleting a primary address takes the same subnet's secondaries with it.
      await h.run('ip', ['addr', 'del', `${old}/24`, 'dev', 'lan0']);
      await h.run('ip', ['addr', 'add', `${addr}/24`, 'dev', 'lan0']);
      await h.run('ip', ['route', 'replace', '224.0.0.0/4', 'dev', 'lan0']);
    }
    await waitFor(
      () => listener.events.some((e) => e.event === 'message' && e.source === newA),
      'announcements from the new address to reach the renumbered listener',
      15_000,
    );
    expect(listener.child.exitCode).toBeNull();
    expect(pub.child.exitCode).toBeNull();
  }, 60_000);
});
