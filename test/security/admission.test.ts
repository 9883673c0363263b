import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/discovery/security/cidr.js';
import {
  createReceiveGuards,
  DuplicateGuard,
  GlobalRateLimitGuard,
  PerSourceRateLimitGuard,
  parseNetwork,
  SourceFilterGuard,
} from '../../src/discovery/security/index.js';
import type { SourceInfo } from '../../src/discovery/types.js';

const from = (address: string): SourceInfo => ({
  address,
  port: 5004,
  family: address.includes(':') ? 'IPv6' : 'IPv4',
  size: 0,
});
const BYTES = Buffer.from('{"type":"t","addr":"h:1"}');

describe('address parsing', () => {
  it('reads IPv4, IPv6, embedded IPv4 and zones the way the kernel writes them', () => {
    const w = new Uint32Array(4);
    expect(parseAddress('198.18.0.1', w)).toBe(4);
    expect([...w]).toEqual([0, 0, 0xffff, 0xc6120001]);
    expect(parseAddress('::ffff:198.18.0.1', w)).toBe(6);
    expect([...w]).toEqual([0, 0, 0xffff, 0xc6120001]);
    expect(parseAddress('fe80::1%lan0', w)).toBe(6);
    expect([...w]).toEqual([0xfe800000, 0, 0, 1]);
    expect(parseAddress('2001:db8:1:2:3:4:5:6', w)).toBe(6);
    expect([...w]).toEqual([0x20010db8, 0x00010002, 0x00030004, 0x00050006]);
    expect(parseAddress('::', w)).toBe(6);
    expect([...w]).toEqual([0, 0, 0, 0]);
  });

  it('refuses what is not an address', () => {
    const w = new Uint32Array(4);
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1:2:3',
      ':::',
      '1::2::3',
      'g::1',
      '1:2:3:4:5:6:7:8:9',
      'x'.repeat(100),
    ]) {
      expect(parseAddress(bad, w), bad).toBe(0);
    }
  });

  it('refuses malformed networks with a clear error', () => {
    expect(() => parseNetwork('198.18.0.0/33')).toThrow(/prefix/);
    expect(() => parseNetwork('2001:db8::/129')).toThrow(/prefix/);
    expect(() => parseNetwork('lan')).toThrow(/not an IP network/);
  });
});

describe('source filter', () => {
  it('lets through only allowlisted networks, IPv4 and IPv6, dual-stack sources included', () => {
    const g = new SourceFilterGuard({ allowSources: ['198.18.4.0/24', '2001:db8:4::/48', '192.0.2.7'] });
    expect(g.check(BYTES, from('198.18.4.9'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('::ffff:198.18.4.9'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('2001:db8:4:ff::1'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('192.0.2.7'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('192.0.2.8'), 0)).toBe('source_denied');
    expect(g.check(BYTES, from('198.18.5.1'), 0)).toBe('source_denied');
    expect(g.check(BYTES, from('2001:db8:5::1'), 0)).toBe('source_denied');
    expect(g.check(BYTES, from('not-an-address'), 0)).toBe('source_denied');
  });

  it('on-link only: accepts sources on the host networks and picks up an address change on refresh', () => {
    let nets = ['198.18.7.1/24', 'fe80::1/64', '127.0.0.1/8'];
    const g = new SourceFilterGuard({
      onLinkOnly: true,
      localNetworks: () => nets,
      refreshIntervalMs: 1_000,
    });
    expect(g.check(BYTES, from('198.18.7.200'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('fe80::abcd%lan0'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('198.18.8.1'), 0)).toBe('source_denied');
    nets = ['198.18.8.1/24'];
    expect(g.check(BYTES, from('198.18.8.1'), 500)).toBe('source_denied');
    expect(g.check(BYTES, from('198.18.8.1'), 1_000)).toBeUndefined();
    expect(g.check(BYTES, from('198.18.7.200'), 1_001)).toBe('source_denied');
  });

  it('keeps the last networks read when reading them fails', () => {
    let fail = false;
    const g = new SourceFilterGuard({
      onLinkOnly: true,
      refreshIntervalMs: 10,
      localNetworks: () => {
        if (fail) throw new Error('EMFILE');
        return ['198.18.9.1/24'];
      },
    });
    fail = true;
    expect(g.check(BYTES, from('198.18.9.5'), 100)).toBeUndefined();
    expect(g.check(BYTES, from('198.18.10.5'), 200)).toBe('source_denied');
  });

  it('reads the real interfaces by default: loopback sources are on-link', () => {
    const [g] = createReceiveGuards({ group: '224.1.1.1', port: 5004, onLinkOnly: true });
    expect(g?.check(BYTES, from('127.0.0.1'), 0)).toBeUndefined();
    expect(g?.check(BYTES, from('203.0.113.9'), 0)).toBe('source_denied');
  });
});

describe('rate limits', () => {
  it('gives each source its own budget per second, refilled with time', () => {
    const g = new PerSourceRateLimitGuard(10);
    let passed = 0;
    for (let i = 0; i < 50; i++) if (g.check(BYTES, from('198.18.0.1'), 0) === undefined) passed++;
    expect(passed).toBe(10);
    expect(g.check(BYTES, from('198.18.0.2'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('198.18.0.1'), 0)).toBe('rate_limited_source');
    expect(g.check(BYTES, from('198.18.0.1'), 100)).toBeUndefined();
    expect(g.check(BYTES, from('198.18.0.1'), 100)).toBe('rate_limited_source');
  });

  it('tracks at most maxSources sources and keeps the recently active ones', () => {
    const g = new PerSourceRateLimitGuard(1, 100);
    // A steady sender exhausts its budget, then 10,000 strangers pass through the table.
    expect(g.check(BYTES, from('198.18.0.1'), 0)).toBeUndefined();
    let t = 0;
    for (let i = 0; i < 10_000; i++) {
      t += 1;
      g.check(BYTES, from(`10.${(i >> 8) & 255}.${i & 255}.1`), t);
      if (i % 40 === 0) g.check(BYTES, from('198.18.0.1'), t);
      expect(g.size).toBeLessThanOrEqual(100);
    }
    // Every source was inserted once and the steady sender never left: it was kept away from the head.
    expect(g.evictions).toBe(10_001 - 100);
  });

  it('caps the whole listener whatever the sources', () => {
    const g = new GlobalRateLimitGuard(100);
    let passed = 0;
    for (let i = 0; i < 1_000; i++)
      if (g.check(BYTES, from(`10.0.${i >> 8}.${i & 255}`), 5_000) === undefined) passed++;
    expect(passed).toBe(100);
    expect(g.check(BYTES, from('10.9.9.9'), 5_010)).toBeUndefined();
    expect(g.check(BYTES, from('10.9.9.9'), 5_010)).toBe('rate_limited_global');
  });
});

describe('duplicate suppression', () => {
  it('drops the same bytes from the same source within the window, and only those', () => {
    const g = new DuplicateGuard(1_000);
    const other = Buffer.from('{"type":"t","addr":"h:2"}');
    expect(g.check(BYTES, from('198.18.0.1'), 0)).toBeUndefined();
    expect(g.check(BYTES, from('198.18.0.1'), 999)).toBe('duplicate');
    expect(g.check(BYTES, from('198.18.0.2'), 999)).toBeUndefined();
    expect(g.check(other, from('198.18.0.1'), 999)).toBeUndefined();
    // Not extended by the hit: the original's identical repeats get one through per window.
    expect(g.check(BYTES, from('198.18.0.1'), 1_000)).toBeUndefined();
  });

  it('stays within maxEntries under a flood of unique datagrams', () => {
    const g = new DuplicateGuard(10_000, 256);
    for (let i = 0; i < 20_000; i++) {
      expect(g.check(Buffer.from(`{"n":${i}}`), from('198.18.0.1'), i / 10)).toBeUndefined();
    }
    expect(g.size).toBeLessThanOrEqual(256);
    expect(g.check(Buffer.from('{"n":19999}'), from('198.18.0.1'), 2_000)).toBe('duplicate');
  });
});

describe('createReceiveGuards', () => {
  it('builds nothing when nothing is configured, and the checks in order cheapest first', () => {
    expect(createReceiveGuards({ group: '224.1.1.1', port: 5004 })).toEqual([]);
    const guards = createReceiveGuards({
      group: '224.1.1.1',
      port: 5004,
      allowSources: ['198.18.0.0/15'],
      rateLimit: { perSource: 10, global: 100, maxSources: 50 },
      duplicateWindowMs: 500,
      signing: { mode: 'verify-if-signed', keys: [{ id: 'k', key: Buffer.alloc(32, 1) }] },
    });
    expect(guards.map((g) => g.name)).toEqual([
      'source-filter',
      'rate-limit-source',
      'rate-limit-global',
      'duplicate',
      'signature',
    ]);
  });

  it('refuses negative or non-finite limits', () => {
    expect(() =>
      createReceiveGuards({ group: '224.1.1.1', port: 5004, rateLimit: { perSource: -1, global: 0 } }),
    ).toThrow(/perSource/);
    expect(() =>
      createReceiveGuards({ group: '224.1.1.1', port: 5004, duplicateWindowMs: Number.NaN }),
    ).toThrow(/duplicateWindowMs/);
  });
});
