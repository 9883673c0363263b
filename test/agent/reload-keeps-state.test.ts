/**
 * A reload keeps what the agent knows. A steady signed sender runs while the agent reloads ten times, once for
 * each kind of listener key that needs no new socket (timeouts, retention, limits, filter, signing keys and
 * the rest of `security`, buffers, interfaces): every datagram is counted exactly once, no sequence gap is
 * reported, a service that was stale stays stale and listed, and no Prometheus counter ever goes backwards.
 * A change of group is make-before-break: the new group is heard before the old one is closed, and the
 * registry and counters carry over.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { createSigner } from '../../src/discovery/security/index.js';
import type { ServiceRecord } from '../../src/discovery/types.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent, udpSocketInodes } from './in-process.js';

const GROUP = '224.1.1.41';
const OTHER_GROUP = '224.1.1.42';
const KEY1 = 'k1-0123456789abcdef0123456789abcdef0123456789';
const KEY2 = 'k2-0123456789abcdef0123456789abcdef0123456789';
const RATE_MS = 5; // ~200 datagrams/s

interface Variant {
  what: string;
  listener: Record<string, unknown>;
  security: Record<string, unknown>;
}

const BASE_LISTENER = { serviceTimeout: '30s', retention: '10m', interfaces: ['127.0.0.1'] };
const BASE_SECURITY = {
  signing: { mode: 'verify-if-signed', keys: [{ id: 'k1', file: 'k1.key' }] },
};
const TWO_KEYS = [
  { id: 'k1', file: 'k1.key' },
  { id: 'k2', file: 'k2.key' },
];

/** Each reload changes one more key; the sender keeps signing with k1, which every step still accepts. */
const VARIANTS: Variant[] = [
  { what: 'serviceTimeout 30s → 45s', listener: { serviceTimeout: '45s' }, security: {} },
  { what: 'retention 10m → 20m', listener: { retention: '20m' }, security: {} },
  { what: 'maxServices', listener: { maxServices: 500 }, security: {} },
  { what: 'typeFilter', listener: { typeFilter: 'S' }, security: {} },
  {
    what: 'security: second signing key',
    listener: {},
    security: { signing: { mode: 'verify-if-signed', keys: TWO_KEYS } },
  },
  {
    what: 'security: key rotation (k2 first)',
    listener: {},
    security: { signing: { mode: 'verify-if-signed', keys: [...TWO_KEYS].reverse() } },
  },
  { what: 'security: allowSources, rate limit', listener: {}, security: { allowSources: ['127.0.0.0/8'] } },
  { what: 'receiveBufferBytes', listener: { receiveBufferBytes: 1048576 }, security: {} },
  { what: 'maxDatagramBytes', listener: { maxDatagramBytes: 1500 }, security: {} },
  { what: 'interfaces 127.0.0.1 → lo', listener: { interfaces: ['lo'] }, security: {} },
];

function yamlFor(port: number, listener: Record<string, unknown>, security: Record<string, unknown>): string {
  const l = { name: 'lan', group: GROUP, port, ...BASE_LISTENER, ...listener };
  return JSON.stringify({
    http: { listen: '@HTTP@', enableReload: true },
    security: { ...BASE_SECURITY, ...security },
    listeners: [l],
  });
}

/** Cumulative: variant i applies the changes of variants 0..i. */
function cumulative(port: number, upTo: number): string {
  let listener: Record<string, unknown> = {};
  let security: Record<string, unknown> = {};
  for (const v of VARIANTS.slice(0, upTo + 1)) {
    listener = { ...listener, ...v.listener };
    security = { ...security, ...v.security };
  }
  return yamlFor(port, listener, security);
}

/** The counters of /metrics, by series (name and labels), as numbers. */
function counters(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    const m = /^(vault_multicast_\w+_total(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** A sender on 127.0.0.1 with its own sequence numbers; remembers when it sent each one. */
class Sender {
  readonly sentAt: number[] = [];
  private readonly socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly sign: ((b: Buffer) => Buffer) | undefined;

  constructor(
    private readonly group: string,
    private readonly port: number,
    private readonly message: Record<string, unknown>,
    key?: string,
  ) {
    const signer = key
      ? createSigner({ keyId: 'k1', key: Buffer.from(key), group: this.group, port: this.port })
      : undefined;
    this.sign = signer ? (b) => signer.sign(b) : undefined;
  }

  get sent(): number {
    return this.sentAt.length;
  }

  async open(): Promise<void> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.socket.setMulticastInterface('127.0.0.1');
    this.socket.setMulticastTTL(1);
  }

  async send(ttl?: number): Promise<void> {
    const seq = this.sentAt.length + 1;
    const plain = encodeAnnouncement(this.message, {
      seq,
      timestamp: Date.now() / 1000,
      ...(ttl ? { ttl } : {}),
    });
    const bytes = this.sign ? this.sign(plain) : plain;
    await new Promise<void>((res, rej) =>
      this.socket.send(bytes, this.port, this.group, (e) => (e ? rej(e) : res())),
    );
    this.sentAt.push(Date.now());
  }

  /** Sends every RATE_MS until stop(), at most `max` datagrams. */
  start(max = 4000): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running && this.sentAt.length < max) {
        await this.send();
        await new Promise((r) => setTimeout(r, RATE_MS));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  close(): void {
    this.socket.close();
  }
}

function recordOf(t: TestAgent, type: string): ServiceRecord | undefined {
  const listener = t.agent.listenerEntry('lan')?.listener;
  return [...(listener?.registry.services() ?? [])].find((r) => r.type === type);
}

describe.skipIf(!IN_TEST_NETNS)('a reload keeps what the agent knows', () => {
  let t: TestAgent;
  let port: number;
  const senders: Sender[] = [];

  beforeAll(async () => {
    port = await freeUdpPort();
    t = await startTestAgent(yamlFor(port, {}, {}), { 'k1.key': KEY1, 'k2.key': KEY2 }, 'info');
  });
  afterAll(async () => {
    for (const s of senders) {
      await s.stop();
      s.close();
    }
    await t?.close();
  });

  test('ten reloads of every in-place kind under a steady sender: each datagram counted once, counters monotonic', async () => {
    const ghost = new Sender(GROUP, port, { type: 'Silent', name: 'ghost', addr: '127.0.0.1:8300' }, KEY1);
    const steady = new Sender(GROUP, port, { type: 'Steady', name: 'steady', addr: '127.0.0.1:8200' }, KEY1);
    senders.push(ghost, steady);
    await Promise.all([ghost.open(), steady.open()]);
    // A service that announces a 1 s validity three times and falls silent: stale before the reloads begin.
    for (let i = 0; i < 3; i++) await ghost.send(1);
    await waitFor(() => recordOf(t, 'Silent')?.state === 'stale', 'ghost stale', 10_000);

    steady.start();
    await waitFor(() => (recordOf(t, 'Steady')?.packets ?? 0) >= 100, 'steady heard', 10_000);

    const listenerBefore = t.agent.listenerEntry('lan')?.listener;
    let previous = counters(await (await fetch(`${t.url}/metrics`)).text());
    const backwards: string[] = [];
    const ghostShown: boolean[] = [];
    for (const [i, v] of VARIANTS.entries()) {
      await t.writeConfig(cumulative(port, i));
      const outcome = await t.agent.requestReload();
      expect(outcome, v.what).toEqual({ ok: true });
      const body = await (await fetch(`${t.url}/metrics`)).text();
      const now = counters(body);
      for (const [series, value] of previous) {
        const after = now.get(series);
        if (after === undefined || after < value) backwards.push(`${v.what}: ${series} ${value} → ${after}`);
      }
      previous = now;
      ghostShown.push(/vault_multicast_service_up\{[^}]*service_name="ghost"[^}]*\} 0\n/.test(body));
      await new Promise((r) => setTimeout(r, 150));
    }
    await steady.stop();
    const sent = steady.sent;
    // Let the last datagrams in flight arrive (the sender has stopped, so the count can only settle).
    await waitFor(() => (recordOf(t, 'Steady')?.packets ?? 0) >= sent, 'every datagram counted', 5000).catch(
      () => undefined,
    );
    const rec = recordOf(t, 'Steady');
    const counted = rec?.packets ?? 0;
    const listener = t.agent.listenerEntry('lan')?.listener;
    const received = listener?.stats.packetsReceived ?? 0;
    // The figures the closing note quotes.
    console.log(
      `reload test: sent ${sent}, counted ${counted}, lost ${sent - counted}, received_packets_total ${received}, ` +
        `stale ghost listed after each reload ${ghostShown.filter(Boolean).length}/${VARIANTS.length}, ` +
        `seq gaps ${rec?.lost}, counter series gone backwards or missing ${backwards.length}`,
    );

    expect(listener).toBe(listenerBefore);
    expect(counted).toBe(sent);
    expect(rec?.lost).toBe(0);
    expect(received).toBe(sent + ghost.sent);
    expect(Object.values(listener?.stats.dropped ?? {}).reduce((a, b) => a + b, 0)).toBe(0);
    expect(backwards).toEqual([]);
    expect(ghostShown).toEqual(VARIANTS.map(() => true));
    expect(recordOf(t, 'Silent')?.state).toBe('stale');
    // The new settings are in force: the registry took the new timeout, the socket the new buffer.
    expect(listener?.registry.serviceTimeoutMs).toBe(45_000);
    expect(listener?.registry.retentionMs).toBe(1_200_000);
    expect(t.agent.listenerEntry('lan')?.config.interfaces).toEqual(['lo']);
    expect(listener?.memberships().map((m) => [m.interface, m.joined])).toEqual([['lo', true]]);
  }, 60_000);

  test('a new group is joined before the old one closes; registry and counters carry over', async () => {
    const config = (group: string) =>
      cumulative(port, VARIANTS.length - 1).replace(`"group":"${GROUP}"`, `"group":"${group}"`);
    const old = new Sender(GROUP, port, { type: 'SwapOld', name: 'old', addr: '127.0.0.1:8401' });
    const next = new Sender(OTHER_GROUP, port, { type: 'SwapNew', name: 'new', addr: '127.0.0.1:8402' });
    senders.push(old, next);
    await Promise.all([old.open(), next.open()]);
    old.start();
    next.start();
    await waitFor(() => (recordOf(t, 'SwapOld')?.packets ?? 0) >= 50, 'old group heard', 10_000);
    expect(recordOf(t, 'SwapNew')).toBeUndefined();
    const listener = t.agent.listenerEntry('lan')?.listener;
    const receivedBefore = listener?.stats.packetsReceived ?? 0;
    const inodesBefore = await udpSocketInodes(GROUP, port);
    expect(inodesBefore).toHaveLength(1);

    await t.writeConfig(config(OTHER_GROUP));
    expect(await t.agent.requestReload()).toEqual({ ok: true });
    const reloadedAt = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all([old.stop(), next.stop()]);

    expect(t.agent.listenerEntry('lan')?.listener).toBe(listener);
    expect(listener?.group).toBe(OTHER_GROUP);
    expect(await udpSocketInodes(GROUP, port)).toEqual([]);
    expect(await udpSocketInodes(OTHER_GROUP, port)).toHaveLength(1);
    expect(listener?.stats.packetsReceived ?? 0).toBeGreaterThan(receivedBefore);
    // What the listener knew stays: the stale ghost and the steady service of the first test, and the old group's.
    for (const type of ['Silent', 'Steady', 'SwapOld', 'SwapNew'])
      expect(recordOf(t, type), type).toBeDefined();
    const oldRec = recordOf(t, 'SwapOld') as ServiceRecord;
    const newRec = recordOf(t, 'SwapNew') as ServiceRecord;
    // Make-before-break: the new group's first datagram heard was sent before the reload finished, and the old
    // group was still heard after the new group's first datagram had arrived.
    const firstNewSeq = (newRec.lastSeq ?? 0) - newRec.packets - newRec.lost + 1;
    const firstNewSentAt = next.sentAt[firstNewSeq - 1] ?? Number.POSITIVE_INFINITY;
    const lastOldSentAt = old.sentAt[(oldRec.lastSeq ?? 1) - 1] ?? 0;
    expect(firstNewSentAt).toBeLessThanOrEqual(reloadedAt);
    expect(lastOldSentAt).toBeGreaterThanOrEqual(firstNewSentAt);
    // Nothing missed on either side while the sockets were swapped.
    expect(oldRec.lost).toBe(0);
    expect(newRec.lost).toBe(0);
    const body = await (await fetch(`${t.url}/metrics`)).text();
    expect(body).toMatch(
      new RegExp(
        `vault_multicast_received_packets_total\\{listener="lan",group="${OTHER_GROUP}",port="${port}"\\} \\d+`,
      ),
    );
  }, 60_000);

  test('a key rotation keeps every publisher running; a publisher restarted for new socket settings keeps its counters', async () => {
    const group = '224.1.1.43';
    const pubPort = await freeUdpPort();
    const config = (keys: typeof TWO_KEYS, interval: string) =>
      JSON.stringify({
        http: { listen: '@HTTP@', enableReload: true },
        security: { signing: { mode: 'required', keys } },
        listeners: [{ name: 'own', group, port: pubPort, interfaces: ['127.0.0.1'] }],
        publishers: [
          {
            name: 'self',
            group,
            port: pubPort,
            interface: '127.0.0.1',
            interval,
            message: { type: 'Self', name: 'self', addr: '127.0.0.1:9000' },
          },
        ],
      });
    const a = await startTestAgent(config([TWO_KEYS[0] as (typeof TWO_KEYS)[0]], '100ms'), {
      'k1.key': KEY1,
      'k2.key': KEY2,
    });
    try {
      const registry = () => a.agent.listenerEntry('own')?.listener.registry;
      const self = () => [...(registry()?.services() ?? [])].find((r) => r.type === 'Self');
      await waitFor(() => (self()?.packets ?? 0) >= 5, 'own announcements heard', 10_000);
      const publisher = a.agent.publisherEntry('self')?.publisher;
      const sentBefore = publisher?.stats.packetsSent ?? 0;

      // Rotation, step 1 and 2: add k2, then sign with it. Listeners accept both; nothing restarts.
      await a.writeConfig(config(TWO_KEYS, '100ms'));
      expect(await a.agent.requestReload()).toEqual({ ok: true });
      await a.writeConfig(config([...TWO_KEYS].reverse(), '100ms'));
      expect(await a.agent.requestReload()).toEqual({ ok: true });
      expect(a.agent.publisherEntry('self')?.publisher).toBe(publisher);
      const heard = self()?.packets ?? 0;
      await waitFor(() => (self()?.packets ?? 0) >= heard + 5, 'signed with k2 and accepted', 10_000);
      // Step 3: k1 retired. Still the same publisher, its announcements still accepted.
      await a.writeConfig(config([TWO_KEYS[1] as (typeof TWO_KEYS)[0]], '100ms'));
      expect(await a.agent.requestReload()).toEqual({ ok: true });
      const heard2 = self()?.packets ?? 0;
      await waitFor(() => (self()?.packets ?? 0) >= heard2 + 5, 'accepted after k1 retired', 10_000);
      expect(registry()?.stats.goodbyes).toBe(0);
      expect(self()?.lost).toBe(0);
      expect(self()?.state).toBe('up');
      expect(publisher?.stats.packetsSent ?? 0).toBeGreaterThan(sentBefore);

      // A new interval needs a restart (a goodbye is right then), but the counters go on from where they were.
      const sentAtRestart = publisher?.stats.packetsSent ?? 0;
      await a.writeConfig(config([TWO_KEYS[1] as (typeof TWO_KEYS)[0]], '120ms'));
      expect(await a.agent.requestReload()).toEqual({ ok: true });
      const restarted = a.agent.publisherEntry('self')?.publisher;
      expect(restarted).not.toBe(publisher);
      expect(restarted?.stats.packetsSent ?? 0).toBeGreaterThanOrEqual(sentAtRestart);
    } finally {
      await a.close();
    }
  }, 60_000);
});

describe.skipIf(!IN_TEST_NETNS)('VaultMultiListener.reconfigure', () => {
  test('a move whose new socket cannot be bound rejects and keeps listening where it was', async () => {
    const port = await freeUdpPort();
    const listener = new VaultMultiListener({ group: '224.1.1.44', port, interfaces: '127.0.0.1' });
    // Bound without SO_REUSEADDR: nobody else can bind 224.1.1.45 on this port.
    const squatter = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => squatter.bind(port, '224.1.1.45', () => r()));
    const sender = new Sender('224.1.1.44', port, { type: 'Kept', addr: '127.0.0.1:1' });
    try {
      await listener.start();
      await sender.open();
      await expect(
        listener.reconfigure({ group: '224.1.1.45', serviceTimeout: 99, interfaces: 'lo' }),
      ).rejects.toThrow(/EADDRINUSE/);
      expect(listener.group).toBe('224.1.1.44');
      expect(listener.interfaces).toEqual(['127.0.0.1']);
      expect(listener.registry.serviceTimeoutMs).toBe(99_000);
      expect(await udpSocketInodes('224.1.1.44', port)).toHaveLength(1);
      await sender.send();
      await waitFor(() => listener.registry.size === 1, 'still heard on the old group');
      // Invalid settings change nothing at all.
      await expect(listener.reconfigure({ port: 0, serviceTimeout: 5 })).rejects.toThrow(/port 0/);
      expect(listener.registry.serviceTimeoutMs).toBe(99_000);
    } finally {
      sender.close();
      squatter.close();
      await listener.stop(0);
    }
  });

  test('a stop during a move leaves no socket of either port behind when it resolves', async () => {
    const [oldPort, newPort] = [await freeUdpPort(), await freeUdpPort()];
    const listener = new VaultMultiListener({ group: '224.1.1.46', port: oldPort, interfaces: '127.0.0.1' });
    await listener.start();
    expect(await udpSocketInodes('224.1.1.46', oldPort)).toHaveLength(1);
    // The stop comes while the move binds its new socket (a SIGTERM during a reload).
    const moving = listener.reconfigure({ port: newPort });
    await listener.stop();
    // Read at once: what a stop left to close later would still be listed.
    const open = readFileSync('/proc/net/udp', 'utf8');
    for (const port of [oldPort, newPort])
      expect(open).not.toContain(`:${port.toString(16).toUpperCase().padStart(4, '0')} `);
    await moving;
  });
});
