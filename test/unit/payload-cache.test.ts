/**
 * The decoded-payload cache of the receive path: senders repeating static announcements in a cycle (the
 * original's publishers) are decoded once per service, up to the default number of services and beyond.
 */
import { describe, expect, it } from 'vitest';
import { PayloadCache } from '../../src/discovery/net/payload-cache.js';

const payload = (i: number) =>
  Buffer.from(JSON.stringify({ type: 'vault', addr: `10.0.${i >> 8}.${i & 255}:8200` }));

/** Walks `services` repeating senders `rounds` times through the cache, as the listener does; the hits. */
function cycle(cache: PayloadCache<number>, services: number, rounds: number): number {
  let hits = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < services; i++) {
      const key = cache.key(payload(i));
      if (key === undefined) continue;
      if (cache.get(key) !== undefined) hits++;
      else cache.set(key, i);
    }
  }
  return hits;
}

describe('PayloadCache', () => {
  it('hits every repeat of 12,000 services cycling their static announcements from the second round on', () => {
    const cache = new PayloadCache<number>();
    // Cold, every lookup misses, but the misses fill it: it keeps caching instead of stepping aside.
    expect(cycle(cache, 12_000, 1)).toBe(0);
    expect(cycle(cache, 12_000, 1)).toBe(12_000);
  });

  it('steps aside when nothing repeats, and returns the same value for the same bytes', () => {
    const cache = new PayloadCache<number>(16);
    // 4,096 distinct payloads through 16 entries: misses all along, so it stops keying for a while.
    cycle(cache, 4096, 1);
    expect(cache.key(payload(1))).toBeUndefined();
    const fresh = new PayloadCache<number>();
    const key = fresh.key(payload(7)) as string;
    fresh.set(key, 7);
    expect(fresh.get(fresh.key(Buffer.from(payload(7))) as string)).toBe(7);
  });

  it('steps aside for announcements that are never kept (a changing seq), however empty it is', () => {
    const cache = new PayloadCache<number>();
    for (let i = 0; i < 1024; i++) cache.get(cache.key(payload(i)) as string);
    expect(cache.key(payload(0))).toBeUndefined();
  });
});
