/**
 * The registry against one hostile sender. Before: 10,000 unsigned announcements with `ttl: 3600` from one
 * address filled it and every newcomer (the agent's own publisher too) was refused for an hour; and it kept
 * every datagram whole, so 65 KB announcements took hundreds of MB and /api/v1/services failed with
 * "Invalid string length". Now a source below its fair share takes the place of the flooder's stalest entry,
 * and a byte bound cuts the extra keys of the largest announcements. Scaled down with the same shape:
 * maxServices 200; 200 datagrams of 65 KB against 8 MiB.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { serviceKey } from '../../src/discovery/registry.js';
import { startTestAgent, type TestAgent } from '../agent/in-process.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const GROUP = '239.75.0.1';
const agents: TestAgent[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const a of agents.splice(0)) await a.close();
});

async function sender(from: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, from, r));
  s.setMulticastInterface('127.0.0.1');
  s.setMulticastLoopback(true);
  sockets.push(s);
  return s;
}

function send(s: Socket, port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => s.send(bytes, port, GROUP, (e) => (e ? reject(e) : resolve())));
}

interface ServiceView {
  name: string;
  type: string;
  addr: string;
  cut?: boolean;
  data: Record<string, unknown>;
}

async function services(t: TestAgent): Promise<ServiceView[]> {
  const r = await fetch(`${t.url}/api/v1/services`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { services: ServiceView[] }).services;
}

describe.skipIf(!IN_TEST_NETNS)('registry bounds against one sender', () => {
  it('a full registry still takes a newcomer and the agent’s own publisher: the flooder loses its stalest', async () => {
    const port = await freeUdpPort();
    const listener = `listeners:\n  - {name: l, group: ${GROUP}, port: ${port}, interfaces: [127.0.0.1], maxServices: 200}\n`;
    const t = await startTestAgent(`http: {listen: "@HTTP@"}\n${listener}`);
    agents.push(t);
    const registry = () => t.agent.listenerEntry('l')!.listener.registry;
    const flooder = await sender('127.0.0.2');
    for (let i = 0; i < 300; i++) {
      await send(
        flooder,
        port,
        encodeAnnouncement(
          { type: 'flood', name: `f${i}`, addr: `198.18.1.${i % 250}:${i + 1}` },
          { ttl: 3600 },
        ),
      );
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => registry().size === 200, 'the registry full of the flood', 10_000);
    expect(t.agent.listenerEntry('l')!.listener.stats.dropped.service_limit).toBeGreaterThan(0);

    const newcomer = await sender('127.0.0.3');
    await send(newcomer, port, encodeAnnouncement({ type: 'app', name: 'newcomer', addr: '198.18.2.1:80' }));
    await t.writeConfig(
      `http: {listen: "@HTTP@"}\n${listener}publishers:\n  - {name: own, group: ${GROUP}, port: ${port}, interfaces: [127.0.0.1], interval: 200ms, message: {type: app, name: own, addr: "198.18.2.2:80"}}\n`,
    );
    expect(await t.agent.requestReload()).toEqual({ ok: true });
    await waitFor(
      async () => {
        const names = (await services(t)).map((s) => s.name);
        return names.includes('newcomer') && names.includes('own');
      },
      'the newcomer and the own publisher in the registry',
      10_000,
    );
    expect(registry().size).toBe(200);
    // The flooder gave up its least recently seen entries, the first ones it sent.
    const names = new Set((await services(t)).map((s) => s.name));
    expect(names.has('f0')).toBe(false);
    expect(names.has('f1')).toBe(false);
    expect(names.has('f199')).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/vault_multicast_services_evicted_total\{[^}]*\} 2\n/);
  });

  it('keeps announcement bytes under maxRegistryBytes at maxDatagramBytes 65507, and every API answers', async () => {
    const port = await freeUdpPort();
    const t = await startTestAgent(
      `http: {listen: "@HTTP@"}\nlisteners:\n  - {name: l, group: ${GROUP}, port: ${port}, interfaces: [127.0.0.1], maxDatagramBytes: 65507, maxRegistryBytes: 8388608, receiveBufferBytes: 16777216}\n`,
    );
    agents.push(t);
    const registry = () => t.agent.listenerEntry('l')!.listener.registry;
    const s = await sender('127.0.0.2');
    const count = 200;
    const blob = 'x'.repeat(65_000);
    const addr = (i: number) => `198.18.3.${i % 250}:${i + 1}`;
    // Sender and receiver share this process: what the socket buffer dropped is sent again.
    for (let pass = 0; pass < 5 && registry().size < count; pass++) {
      for (let i = 0; i < count; i++) {
        if (registry().get(serviceKey('big', addr(i))) !== undefined) continue;
        await send(s, port, encodeAnnouncement({ type: 'big', name: `b${i}`, addr: addr(i), blob }));
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitFor(() => registry().size === count, `${count} services`, 10_000);
    // 200 × 65 KB is 13 MB: over the 8 MiB configured, so the largest lost their extra keys.
    expect(registry().maxBytes).toBe(8 * 1024 * 1024);
    expect(registry().bytes).toBeLessThanOrEqual(registry().maxBytes);
    const list = await services(t);
    expect(list).toHaveLength(count);
    const cut = list.filter((v) => v.cut);
    expect(cut.length).toBeGreaterThan(0);
    for (const v of cut) {
      expect(v.data.blob).toBeUndefined();
      expect(v.data.type).toBe('big');
      expect(v.name).toMatch(/^b\d+$/);
    }
    expect(list.filter((v) => !v.cut).every((v) => v.data.blob === blob)).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`vault_multicast_announcements_cut_total\\{[^}]*\\} ${cut.length}\\n`),
    );
    // The event stream's snapshot comes whole.
    const events = await fetch(`${t.url}/api/v1/events`);
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    let text = '';
    const complete = () => {
      const at = text.indexOf('event: snapshot');
      return at >= 0 && text.indexOf('\n\n', at) >= 0;
    };
    while (!complete()) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    await reader.cancel();
    const at = text.indexOf('event: snapshot');
    const data = text.slice(text.indexOf('data: ', at) + 6, text.indexOf('\n\n', at));
    expect((JSON.parse(data) as { services: unknown[] }).services).toHaveLength(count);
  }, 90_000);
});
