/**
 * Event streams against clients that never read, at the size of the report: 10,000 services of 1.3 KB and
 * 64 clients that open /api/v1/events and stop reading. Before: every client got its own copy of the
 * multi-megabyte snapshot and RSS went from 110 MB to 2,066 MB. Now the snapshot is serialised once and
 * shared, counts against each client's bound and the total bound, and one address holds at most 8 streams;
 * RSS stays under 400 MB.
 */
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const GROUP = '239.76.0.1';
const SERVICES = 10_000;

async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Opens an event stream from `from` and never reads past the status line. */
function stalledStream(url: string, from: string): Promise<{ socket: Socket; status: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), localAddress: from }, () =>
      socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`),
    );
    socket.once('data', (d) => {
      socket.pause();
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString('latin1'))?.[1] ?? 0) });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe.skipIf(!IN_TEST_NETNS)('event streams and memory', () => {
  let agent: SpawnedAgent;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const port = await freeUdpPort();
    agent = await spawnAgent({
      listeners: [
        {
          name: 'l',
          group: GROUP,
          port,
          interfaces: ['127.0.0.1'],
          maxServices: 20_000,
          serviceTimeout: '1h',
          receiveBufferBytes: 16_777_216,
        },
      ],
    });
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    s.setMulticastInterface('127.0.0.1');
    const blob = 'v'.repeat(1_200);
    for (let i = 0; i < SERVICES; i++) {
      const bytes = encodeAnnouncement({
        type: 'svc',
        name: `s${i}`,
        addr: `198.18.${i >> 8}.${i & 255}:80`,
        blob,
      });
      await new Promise<void>((r) => s.send(bytes, port, GROUP, () => r()));
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    s.close();
    await waitFor(
      async () =>
        (await agent.fetch('/metrics')).body.includes('vault_multicast_active_services{listener="l"'),
      'metrics',
      10_000,
    );
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await agent?.stop();
  });

  it('stays under 400 MB with 64 clients that never read a 10,000-service snapshot', async () => {
    const metrics = (await agent.fetch('/metrics')).body;
    const up = Number(/vault_multicast_active_services\{listener="l"[^}]*\} (\d+)/.exec(metrics)?.[1]);
    expect(up).toBeGreaterThan(SERVICES * 0.95);
    const before = await rssMB(agent.pid);
    const statuses: number[] = [];
    let peak = before;
    // 8 client addresses × 8 streams = 64, the stream limit; a 9th from one address is refused.
    for (let a = 1; a <= 8; a++) {
      for (let c = 0; c < 8; c++) {
        const got = await stalledStream(agent.url, `127.0.0.${a}`);
        sockets.push(got.socket);
        statuses.push(got.status);
        peak = Math.max(peak, await rssMB(agent.pid));
      }
    }
    const ninth = await stalledStream(agent.url, '127.0.0.1');
    sockets.push(ninth.socket);
    expect(ninth.status).toBe(503);
    await new Promise((r) => setTimeout(r, 2_000));
    peak = Math.max(peak, await rssMB(agent.pid));
    console.log(
      `sse-memory: RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB; answers ${statuses.join(',')}`,
    );
    expect(peak).toBeLessThan(400);
    // Clients beyond the total bound were told to come back later, and the refusals are counted.
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const after = (await agent.fetch('/metrics')).body;
    const refused = statuses.filter((s) => s === 503).length;
    const count = (reason: string) =>
      Number(
        new RegExp(`vault_multicast_http_rejected_total\\{reason="${reason}"\\} (\\d+)`).exec(after)?.[1] ??
          0,
      );
    expect(count('sse_address')).toBe(1);
    expect(count('sse_total_bytes') + count('sse_slow_client')).toBeGreaterThanOrEqual(refused);
    // The agent still answers its API.
    expect((await agent.fetch('/-/ready')).status).toBe(200);
  }, 120_000);
});
