/**
 * Duplicate suppression, as python-zeroconf does it: the same bytes from the same source address within a
 * short window are dropped. Useful against a looped or replaying sender and against the copies a host joined
 * on several interfaces receives; cheap enough to run before decoding.
 *
 * Datagrams are remembered by a 53-bit hash of (source, bytes) seeded at random per process, so nobody can
 * aim a collision at another sender's announcement. The memory is a BoundedExpiringSet: O(1) per datagram,
 * bounded by `maxEntries`; when full the oldest entry goes, so the worst a flood achieves is letting a
 * duplicate through, which the registry absorbs.
 *
 * The window must stay shorter than the publishers' interval (2 s by default): the original publisher sends
 * the very same bytes every interval, and each of those repeats is a legitimate refresh. An entry is not
 * extended when hit, so a sender that repeats faster than the window still gets one datagram per window.
 */
import { randomBytes } from 'node:crypto';
import type { DropReason } from '../drop-reasons.js';
import type { ReceiveGuard, SourceInfo } from '../types.js';
import { BoundedExpiringSet } from './expiring-set.js';

export const DEFAULT_DUPLICATE_MAX_ENTRIES = 65_536;

const seeds = randomBytes(8);
const SEED_A = seeds.readUInt32LE(0);
const SEED_B = seeds.readUInt32LE(4);

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seeded 53-bit hash of the source address and the datagram (two independent 32-bit lanes). */
export function datagramHash(bytes: Uint8Array, source: string): number {
  let a = SEED_A ^ bytes.length;
  let b = SEED_B ^ Math.imul(bytes.length, 0x9e3779b1);
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return fmix(a) * 0x200000 + (fmix(b) >>> 11);
}

export class DuplicateGuard implements ReceiveGuard {
  readonly name = 'duplicate';
  private readonly seen: BoundedExpiringSet;

  constructor(
    private readonly windowMs: number,
    maxEntries = DEFAULT_DUPLICATE_MAX_ENTRIES,
  ) {
    this.seen = new BoundedExpiringSet(maxEntries);
  }

  /** Datagrams remembered (never above maxEntries). */
  get size(): number {
    return this.seen.size;
  }

  get maxEntries(): number {
    return this.seen.capacity;
  }

  check(bytes: Buffer, source: SourceInfo, now: number): DropReason | undefined {
    const h = datagramHash(bytes, source.address);
    if (this.seen.has(h, now)) return 'duplicate';
    this.seen.add(h, now + this.windowMs);
    return undefined;
  }
}
