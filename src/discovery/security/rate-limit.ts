/**
 * Flood defence by rate: a token bucket per source address over a table of bounded size, then one bucket for
 * the whole listener. Per-source first, so one noisy sender spends its own budget and not everyone's.
 *
 * The table is a Map in roughly least-recently-active order: every insertion takes the next sequence number,
 * and a source seen again once more than half the table has been inserted after it moves to the tail
 * (delete + set). A sender heard at least once per maxSources/2 new sources is therefore never at the head,
 * and a busy one costs a move only now and then; when the table is full the head is evicted. An evicted source comes back with a full bucket: under a flood from more spoofed addresses than
 * `maxSources`, per-source limiting cannot hold (nothing can, with forged sources) and the global bucket is
 * what protects the process. Everything is O(1) per datagram and allocates only for a new source.
 */
import type { DropReason } from '../drop-reasons.js';
import type { ReceiveGuard, SourceInfo } from '../types.js';

export const DEFAULT_MAX_SOURCES = 10_000;

export interface RateLimitOptions {
  /** Datagrams per second per source address; 0 turns the per-source limit off. */
  perSource: number;
  /** Datagrams per second for the listener as a whole; 0 turns it off. */
  global: number;
  /** Source addresses tracked at most. */
  maxSources?: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
  /** Sequence number of its last insertion at the tail. */
  seq: number;
}

/** Bucket size: one second's worth, at least one datagram, so a sender's regular burst never trips it. */
function capacityFor(rate: number): number {
  return Math.max(1, rate);
}

function take(b: Bucket, rate: number, cap: number, now: number): boolean {
  const elapsed = now - b.refilledAt;
  // A monotonic clock never goes back, but a fake one in a test might; never refill on negative time.
  if (elapsed > 0) {
    b.tokens = Math.min(cap, b.tokens + (elapsed * rate) / 1000);
    b.refilledAt = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

export class PerSourceRateLimitGuard implements ReceiveGuard {
  readonly name = 'rate-limit-source';
  private readonly table = new Map<string, Bucket>();
  private readonly cap: number;
  readonly maxSources: number;
  /** Sources pushed out of the table to make room. */
  evictions = 0;
  private seq = 0;

  constructor(
    private readonly rate: number,
    maxSources = DEFAULT_MAX_SOURCES,
  ) {
    this.cap = capacityFor(rate);
    this.maxSources = Math.max(1, Math.floor(maxSources));
  }

  /** Sources currently tracked (never above maxSources). */
  get size(): number {
    return this.table.size;
  }

  check(_bytes: Buffer, source: SourceInfo, now: number): DropReason | undefined {
    const key = source.address;
    let b = this.table.get(key);
    if (b === undefined) {
      if (this.table.size >= this.maxSources) {
        const oldest = this.table.keys().next();
        if (!oldest.done) this.table.delete(oldest.value);
        this.evictions++;
      }
      b = { tokens: this.cap, refilledAt: now, seq: ++this.seq };
      this.table.set(key, b);
    } else if (this.seq - b.seq > this.maxSources >> 1) {
      this.table.delete(key);
      this.table.set(key, b);
      b.seq = ++this.seq;
    }
    return take(b, this.rate, this.cap, now) ? undefined : 'rate_limited_source';
  }
}

export class GlobalRateLimitGuard implements ReceiveGuard {
  readonly name = 'rate-limit-global';
  private readonly bucket: Bucket;
  private readonly cap: number;

  constructor(private readonly rate: number) {
    this.cap = capacityFor(rate);
    this.bucket = { tokens: this.cap, refilledAt: Number.NaN, seq: 0 };
  }

  check(_bytes: Buffer, _source: SourceInfo, now: number): DropReason | undefined {
    // The first datagram starts the clock (the guard may be built long before the socket receives).
    if (Number.isNaN(this.bucket.refilledAt)) this.bucket.refilledAt = now;
    return take(this.bucket, this.rate, this.cap, now) ? undefined : 'rate_limited_global';
  }
}
