/**
 * Discovery must never be an amplifier or a port scanner: a listener host sends nothing in response to what
 * it receives (its interface's transmit counter does not move during and after a flood), and the agent never
 * connects to the addresses it is told about (a TCP listener announced as a service gets no connection).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnAgent } from '../agent/spawn-agent.js';
import {
  freeTcpPort,
  freeUdpPort,
  IN_TEST_NETNS,
  type Lan,
  NETNS_AVAILABLE,
  waitFor,
} from '../harness/netns.js';
import { PROBE, Probe } from '../integration/helpers/probe.js';
import { lanPair } from './lan-pair.js';

const GROUP = '239.68.0.1';

async function txPackets(lan: Lan, i: number): Promise<number> {
  const r = await lan.hosts[i]!.run('cat', ['/sys/class/net/lan0/statistics/tx_packets']);
  return Number(r.stdout.trim());
}

describe.skipIf(!NETNS_AVAILABLE)('a listener never transmits in response', () => {
  it('sends not one packet while and after 5,000 announcements, goodbyes and garbage arrive', async () => {
    const { lan, a, b } = await lanPair();
    // No IPv6 on the listener host: its router solicitations and MLD reports would be traffic of its own,
    // unrelated to what it receives.
    await a.run('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.lan0.disable_ipv6=1']);
    const port = 41_000 + Math.floor(Math.random() * 1000);
    const listener = new Probe(
      a.spawn(process.execPath, [
        PROBE,
        'listen',
        JSON.stringify({ group: GROUP, port, interfaces: 'lan0' }),
      ]),
    );
    await listener.started();
    // Let the join's unsolicited IGMP reports (robustness 2, within a second or two) go out first.
    let before = await txPackets(lan, 0);
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 1500));
        const now = await txPackets(lan, 0);
        const quiet = now === before;
        before = now;
        return quiet;
      },
      'the listener host to fall quiet after joining',
      15_000,
    );

    const flood = `
      const dgram = require('node:dgram');
      const s = dgram.createSocket('udp4');
      s.bind(0, '${b.ipv4}', async () => {
        s.setMulticastInterface('${b.ipv4}');
        const send = (m) => new Promise((r) => s.send(m, ${port}, '${GROUP}', r));
        for (let i = 0; i < 5000; i++) {
          const kind = i % 5;
          const m = kind === 0 ? JSON.stringify({ type: 'echo', name: 'n' + i, addr: '${a.ipv4}:' + (1 + i) })
            : kind === 1 ? JSON.stringify({ type: 'echo', name: 'n' + i, addr: '${b.ipv4}:7', goodbye: true })
            : kind === 2 ? JSON.stringify({ type: 'echo', ip: ['${a.ipv4}'], port: '22', metrics_port: 9100 })
            : kind === 3 ? Buffer.from([0xff, 0x00, i & 255])
            : '{"type":"echo","addr":';
          await send(m);
          if (i % 500 === 0) await new Promise((r) => setTimeout(r, 5));
        }
        s.close();
      });`;
    const sent = await b.run(process.execPath, ['-e', flood], { timeoutMs: 30_000 });
    expect(sent.code).toBe(0);
    const received = async () =>
      Number(((await listener.request('metrics')).metrics as { packets_received: number }).packets_received);
    await waitFor(async () => (await received()) >= 5000, 'the flood to arrive', 10_000);
    // Anything sent in response would be on the wire by now.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await txPackets(lan, 0)).toBe(before);
    await listener.stop();
  }, 90_000);
});

describe.skipIf(!IN_TEST_NETNS)('the agent never connects to announced addresses', () => {
  let server: Server | undefined;
  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('leaves an announced TCP service (and its announced metrics port) untouched', async () => {
    let connections = 0;
    server = createServer((sock) => {
      connections++;
      sock.destroy();
    });
    const tcpPort = await freeTcpPort();
    await new Promise<void>((r) => server!.listen(tcpPort, '127.0.0.1', () => r()));
    const port = await freeUdpPort();
    const agent = await spawnAgent({
      listeners: [{ name: 'bait', group: GROUP, port, interfaces: ['127.0.0.1'] }],
      publishers: [
        {
          group: GROUP,
          port,
          interfaces: ['127.0.0.1'],
          interval: '200ms',
          message: { type: 'bait', name: 'tcp-bait', addr: `127.0.0.1:${tcpPort}`, metrics_port: tcpPort },
        },
      ],
    });
    try {
      await waitFor(
        async () => (await agent.fetch('/api/v1/services')).body.includes('tcp-bait'),
        'the bait service',
        10_000,
      );
      // Every read path that could tempt an implementation to probe the service.
      for (const path of ['/metrics', '/api/v1/services', '/api/v1/status', '/api/v1/sd', '/']) {
        expect((await agent.fetch(path)).status).toBeLessThan(500);
      }
      await new Promise((r) => setTimeout(r, 2000));
      expect(connections).toBe(0);
    } finally {
      await agent.stop();
    }
  });
});
