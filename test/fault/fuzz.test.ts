/**
 * Property-based fuzzing (fast-check) of the decoder and of the whole receive path: whatever arrives, nothing
 * throws, every datagram ends up accepted or dropped with exactly one known reason
 * (received = accepted + Σ dropped), and the registry never holds more than its cap.
 */
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/discovery/clock.js';
import { decodeAnnouncement, encodeAnnouncement } from '../../src/discovery/codec.js';
import { DROP_REASONS, type DropReason } from '../../src/discovery/drop-reasons.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { createReceiveGuards, signAnnouncement } from '../../src/discovery/security/index.js';
import type { ListenerStats, SourceInfo } from '../../src/discovery/types.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

/** The decoder's reasons: those listed before the first admission reason. */
const DECODE_REASONS: readonly DropReason[] = DROP_REASONS.slice(0, DROP_REASONS.indexOf('source_denied'));
const KEY = { id: 'fuzz', key: Buffer.alloc(32, 7) };
const GROUP = '239.77.0.1';

// Strings an attacker likes: quotes, escapes, control characters, lone surrogates, markup, prototype names.
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '"\\\n\r\t\u0000',
    '\u001b[31mred\u001b[0m',
    '\ud800',
    '\udfff x',
    '<script>alert(1)</script>',
    '{{7*7}}',
    '',
    ' ',
    'a'.repeat(300),
  ),
);
const hostPort = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 70_000 })).map(([h, p]) => `${h}:${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 65_535 })).map(([h, p]) => `[${h}]:${p}`),
  fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65_535 })).map(([h, p]) => [h, p]),
  hostile,
  fc.anything(),
);
/** Announcement-shaped objects with every field sometimes right, sometimes wrong. */
const announcementLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom('vault', 'db', 'web'), hostile, fc.anything()),
    name: fc.oneof(hostile, fc.anything()),
    addr: hostPort,
    ip: fc.oneof(fc.array(fc.ipV4(), { maxLength: 2 }), fc.anything()),
    port: fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.string(), fc.anything()),
    ttl: fc.oneof(fc.double(), fc.integer({ min: -10, max: 10_000 })),
    seq: fc.oneof(fc.integer(), fc.double(), fc.string()),
    timestamp: fc.oneof(fc.double(), fc.integer()),
    goodbye: fc.oneof(fc.boolean(), fc.anything()),
    metrics_port: fc.anything(),
    __proto__: fc.anything(),
  },
  { requiredKeys: [] },
);
const jsonText = fc.oneof(
  announcementLike.map((o) => JSON.stringify(o) ?? ''),
  fc.json({ depthSize: 'medium' }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.nat({ max: 60 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
  fc.nat({ max: 60 }).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`),
);
/** Raw datagrams: random bytes, JSON texts, and JSON texts mutilated (truncated, a byte flipped). */
const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 1600 }),
  jsonText.map((t) => Buffer.from(t)),
  fc.tuple(jsonText, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([t, at, b]) => {
    const buf = Buffer.from(t);
    if (buf.length > 0) buf[at % buf.length] = b;
    return buf.subarray(0, Math.max(0, buf.length - (at % 7)));
  }),
  fc.string({ maxLength: 1500 }).map((t) => Buffer.from(t)),
);

describe('decodeAnnouncement under fuzzing', () => {
  it('never throws and always answers with an announcement or a decoding reason (10,000 cases)', () => {
    fc.assert(
      fc.property(datagram, fc.integer({ min: 0, max: 2000 }), (bytes, maxBytes) => {
        const r = decodeAnnouncement(bytes, { maxBytes });
        if (r.ok) {
          expect(bytes.length).toBeLessThanOrEqual(maxBytes);
          expect(typeof r.announcement.type).toBe('string');
          expect(typeof r.announcement.addr).toBe('string');
        } else {
          expect(DECODE_REASONS).toContain(r.reason);
          expect(typeof r.detail).toBe('string');
        }
      }),
      { numRuns: 10_000 },
    );
  }, 120_000);

  it('decodes what the encoder produces from any well-formed announcement object', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('vault', 'db'),
        fc.ipV4(),
        fc.integer({ min: 1, max: 65_535 }),
        fc.string({ maxLength: 64 }),
        (type, host, port, name) => {
          const r = decodeAnnouncement(encodeAnnouncement({ type, name, addr: `${host}:${port}` }), {
            maxBytes: 1400,
          });
          expect(r.ok && r.announcement.addr === `${host}:${port}` && r.announcement.type === type).toBe(
            true,
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

function sumDropped(s: ListenerStats): number {
  let n = 0;
  for (const r of DROP_REASONS) n += s.dropped[r];
  return n;
}

function fakeClock(): Clock & { mono: number; wall: number } {
  const c = { mono: 0, wall: 1_767_225_600_000, monotonicMs: () => c.mono, wallMs: () => c.wall };
  return c;
}

/** The listener's per-datagram handler: the same code the socket's 'message' event runs. */
function receiveOf(l: VaultMultiListener): (msg: Buffer, rinfo: SourceInfo) => void {
  return (msg, rinfo) => l.ingest(msg, rinfo);
}

const SOURCES = [
  '198.18.0.1',
  '198.18.0.2',
  '10.9.9.9',
  '::ffff:198.18.0.3',
  '2001:db8::1',
  'fe80::1%lo',
  'junk',
];
const step = fc.record({
  bytes: fc.oneof(
    datagram,
    // Valid announcements, signed right or wrong, so the later stages see traffic too.
    fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.boolean(), fc.integer({ min: -40_000, max: 40_000 }))
      .map(([i, goodKey, skew]) =>
        signAnnouncement(
          encodeAnnouncement({ type: 'svc', name: `n${i}`, addr: `198.18.1.${i % 250}:${1000 + i}` }),
          goodKey ? KEY : { id: 'fuzz', key: Buffer.alloc(32, 8) },
          GROUP,
          5004,
          1_767_225_600_000 + skew,
        ),
      ),
    fc
      .integer({ min: 0, max: 200 })
      .map((i) => encodeAnnouncement({ type: 'svc', addr: `198.18.2.${i % 250}:${i + 1}` })),
  ),
  source: fc.constantFrom(...SOURCES),
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 })),
  sweep: fc.boolean(),
});

describe('the whole receive path under fuzzing', () => {
  it('never throws, accounts for every datagram and respects the service cap (10,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('verify-if-signed', 'required', 'off') as fc.Arbitrary<
          'verify-if-signed' | 'required' | 'off'
        >,
        fc.boolean(),
        (steps, mode, throwingCallback) => {
          const clock = fakeClock();
          const cap = 5;
          const l = new VaultMultiListener({
            group: GROUP,
            port: 5004,
            interfaces: '127.0.0.1',
            maxServices: cap,
            clock,
            callback: throwingCallback
              ? () => {
                  throw new Error('application bug');
                }
              : undefined,
            guards: createReceiveGuards({
              group: GROUP,
              port: 5004,
              clock,
              allowSources: ['198.18.0.0/15', '::ffff:198.18.0.0/111', '2001:db8::/32', 'fe80::/10'],
              rateLimit: { perSource: 5, global: 20, maxSources: 3 },
              // Small tables, so the fuzzer reaches their eviction paths too.
              duplicateWindowMs: 500,
              duplicateMaxEntries: 4,
              signing: { mode, keys: [KEY], replayCacheEntries: 4 },
            }),
          });
          l.on('message', () => {
            throw new Error('handler bug');
          });
          const receive = receiveOf(l);
          for (const s of steps) {
            clock.mono += s.advanceMs;
            clock.wall += s.advanceMs;
            const family = s.source.includes(':') ? 'IPv6' : 'IPv4';
            receive(Buffer.from(s.bytes), { address: s.source, port: 5004, family, size: s.bytes.length });
            if (s.sweep) l.registry.sweep();
            expect(l.stats.packetsReceived).toBe(l.stats.accepted + sumDropped(l.stats));
            expect(l.registry.size).toBeLessThanOrEqual(cap);
          }
        },
      ),
      { numRuns: 10_000 },
    );
  }, 120_000);
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(!IN_TEST_NETNS)('the receive path on a real socket', () => {
  it('accounts for 3,000 fuzzed datagrams sent over multicast on 127.0.0.1', async () => {
    const port = await freeUdpPort();
    const l = new VaultMultiListener({
      group: GROUP,
      port,
      interfaces: '127.0.0.1',
      maxServices: 50,
      guards: createReceiveGuards({
        group: GROUP,
        port,
        duplicateWindowMs: 200,
        signing: { mode: 'verify-if-signed', keys: [KEY] },
      }),
    });
    cleanups.push(() => l.stop());
    await l.start();
    const tx = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => tx.close(() => r())));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    tx.setMulticastInterface('127.0.0.1');
    const samples = fc.sample(
      fc.oneof(
        datagram,
        fc
          .integer({ min: 0, max: 500 })
          .map((i) => encodeAnnouncement({ type: 'f', addr: `198.18.3.${i % 250}:${i + 1}` })),
      ),
      { numRuns: 3_000, seed: 7 },
    );
    // Datagrams over 65,507 bytes cannot be sent; fuzzed ones stay far below. Zero-length ones are sent too.
    let sent = 0;
    for (const bytes of samples) {
      await new Promise<void>((resolve) => tx.send(bytes, port, GROUP, () => resolve()));
      sent++;
      if (sent % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => l.stats.packetsReceived >= sent, 'every datagram to arrive', 10_000);
    expect(l.stats.packetsReceived).toBe(sent);
    expect(l.stats.packetsReceived).toBe(l.stats.accepted + sumDropped(l.stats));
    expect(l.registry.size).toBeLessThanOrEqual(50);
    expect(l.stats.accepted).toBeGreaterThan(0);
    expect(l.isRunning()).toBe(true);
  });
});
