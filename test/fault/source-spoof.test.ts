/**
 * Source filtering on real sockets: on a LAN, a listener with `onLinkOnly` accepts its neighbour's
 * announcements and drops, as source_denied, the same announcements sent from an address outside its
 * networks (as a routed or spoofed sender would appear); an allowlist does the same on one host.
 */
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { createReceiveGuards } from '../../src/discovery/security/index.js';
import { freeUdpPort, IN_TEST_NETNS, NETNS_AVAILABLE, waitFor } from '../harness/netns.js';
import { lanPair } from './lan-pair.js';

const DIST_INDEX = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(!IN_TEST_NETNS)('allowlist on one host', () => {
  it('drops datagrams from 127.0.0.2 when only 127.0.0.1 is allowed', async () => {
    const group = '239.74.0.1';
    const port = await freeUdpPort();
    const l = new VaultMultiListener({
      group,
      port,
      interfaces: '127.0.0.1',
      guards: createReceiveGuards({ group, port, allowSources: ['127.0.0.1/32'] }),
    });
    cleanups.push(() => l.stop());
    await l.start();
    for (const from of ['127.0.0.1', '127.0.0.2']) {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, from, () => r()));
      s.setMulticastInterface('127.0.0.1');
      await new Promise<void>((r) => s.send(`{"type":"t","addr":"${from}:1"}`, port, group, () => r()));
      await new Promise<void>((r) => s.close(() => r()));
    }
    await waitFor(() => l.stats.packetsReceived >= 2, 'both datagrams', 5_000);
    expect(l.stats.accepted).toBe(1);
    expect(l.stats.dropped.source_denied).toBe(1);
    expect([...l.registry.services()].map((s) => s.source)).toEqual(['127.0.0.1']);
  });
});

describe.skipIf(!NETNS_AVAILABLE)('on-link only, on a LAN', () => {
  it('accepts the neighbour and drops the same announcement from an off-link source address', async () => {
    const { a, b } = await lanPair();
    const group = '239.74.0.2';
    const port = 45_000 + Math.floor(Math.random() * 1000);
    // b also holds an address from another network, as a host one router away (or a spoofer) would appear.
    const offLink = '203.0.113.77';
    await b.run('ip', ['addr', 'add', `${offLink}/32`, 'dev', 'lan0']);
    const listener = a.spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `
      const lib = await import(${JSON.stringify(DIST_INDEX)});
      const group = ${JSON.stringify(group)}, port = ${port};
      const l = new lib.VaultMultiListener({ group, port, interfaces: 'lan0',
        guards: lib.createReceiveGuards({ group, port, onLinkOnly: true }) });
      await l.start();
      console.log('started');
      process.stdin.on('data', () => {
        console.log(JSON.stringify({ accepted: l.stats.accepted, denied: l.stats.dropped.source_denied,
          sources: [...l.registry.services()].map((s) => s.source) }));
      });
      process.stdin.on('end', async () => { await l.stop(); process.exit(0); });`,
    ]);
    let out = '';
    listener.stdout?.on('data', (d) => {
      out += d;
    });
    cleanups.push(() => listener.stdin?.end());
    await waitFor(() => out.includes('started'), 'the listener on a', 10_000);
    const send = (from: string) =>
      b.run(process.execPath, [
        '-e',
        `const s = require('node:dgram').createSocket('udp4');
         s.bind(0, '${from}', () => { s.setMulticastInterface('${b.ipv4}');
           s.send('{"type":"t","addr":"${from}:1"}', ${port}, '${group}', () => s.close()); });`,
      ]);
    expect((await send(b.ipv4)).code).toBe(0);
    expect((await send(offLink)).code).toBe(0);
    let stats = { accepted: 0, denied: 0, sources: [] as string[] };
    await waitFor(
      async () => {
        listener.stdin?.write('stats\n');
        await new Promise((r) => setTimeout(r, 200));
        const lines = out.trim().split('\n');
        stats = JSON.parse(lines[lines.length - 1]!.startsWith('{') ? lines[lines.length - 1]! : '{}');
        return stats.accepted + stats.denied >= 2;
      },
      'both datagrams on a',
      10_000,
    );
    expect(stats).toEqual({ accepted: 1, denied: 1, sources: [b.ipv4] });
  }, 60_000);
});
