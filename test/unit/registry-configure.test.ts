/**
 * ServiceRegistry.configure(): a reload's new settings on a running registry, which keeps every record, its
 * sequence tracking and its lifetime stats.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/discovery/clock.js';
import { decodeAnnouncement, encodeAnnouncement } from '../../src/discovery/codec.js';
import { DEFAULT_MAX_REGISTRY_BYTES } from '../../src/discovery/constants.js';
import { ServiceRegistry } from '../../src/discovery/registry.js';
import type { Announcement } from '../../src/discovery/types.js';

const clock = { mono: 1_000_000, wall: Date.UTC(2026, 0, 1) };
const fake: Clock = { monotonicMs: () => clock.mono, wallMs: () => clock.wall };
const advance = (ms: number) => {
  clock.mono += ms;
  clock.wall += ms;
};

function announce(addr: string, seq: number): Announcement {
  const r = decodeAnnouncement(encodeAnnouncement({ type: 'T', addr }, { seq }), { maxBytes: 1400 });
  if (!r.ok) throw new Error(r.reason);
  return r.announcement;
}

describe('ServiceRegistry.configure', () => {
  it('keeps records, sequence tracking and stats; new timeout from the next announcement, new retention from the next change', () => {
    const reg = new ServiceRegistry({ clock: fake, serviceTimeoutMs: 30_000, retentionMs: 60_000 });
    reg.observe(announce('a:1', 1), 's');
    reg.observe(announce('a:1', 3), 's');
    reg.observe(announce('b:1', 1), 's');
    reg.configure({ serviceTimeoutMs: 5_000, retentionMs: 1_000 });
    const a = reg.get('T\0a:1');
    expect(a).toMatchObject({ packets: 2, lost: 1, lastSeq: 3, ttlMs: 30_000 });
    expect(reg.stats.discovered).toBe(2);

    // a announces again: the 5 s timeout from now on; b keeps the 30 s it was given.
    reg.observe(announce('a:1', 4), 's');
    advance(5_000);
    reg.sweep();
    expect(reg.get('T\0a:1')?.state).toBe('stale');
    expect(reg.get('T\0b:1')?.state).toBe('up');
    // The new retention: a is forgotten 1 s after it went stale.
    advance(1_000);
    reg.sweep();
    expect(reg.get('T\0a:1')).toBeUndefined();
    expect(reg.get('T\0b:1')?.state).toBe('up');
  });

  it('rejects a bad value and changes nothing', () => {
    const reg = new ServiceRegistry({
      clock: fake,
      serviceTimeoutMs: 30_000,
      maxServices: 10,
      typeFilter: 'T',
    });
    expect(() => reg.configure({ serviceTimeoutMs: 1_000, typeFilter: '', maxServices: 0 })).toThrow(
      /maxServices/,
    );
    expect([reg.serviceTimeoutMs, reg.maxServices, reg.typeFilter]).toEqual([30_000, 10, 'T']);
    expect(() => reg.configure({ retentionMs: -1 })).toThrow(/retentionMs/);
    expect(() => reg.configure({ maxServices: 20, maxBytes: 0 })).toThrow(/maxBytes/);
    expect([reg.maxServices, reg.maxBytes]).toEqual([10, DEFAULT_MAX_REGISTRY_BYTES]);
    reg.configure({ maxBytes: 4096 });
    expect(reg.maxBytes).toBe(4096);
  });

  it('a lower maxServices refuses new services until there is room, evicting none of the tracked', () => {
    const reg = new ServiceRegistry({ clock: fake, maxServices: 3 });
    for (const addr of ['a:1', 'b:1', 'c:1']) reg.observe(announce(addr, 1), 's');
    reg.configure({ maxServices: 2 });
    expect(reg.size).toBe(3);
    expect(reg.observe(announce('d:1', 1), 's')).toBe('service_limit');
    expect(reg.size).toBe(3);
  });
});
