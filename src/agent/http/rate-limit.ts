/**
 * Token buckets per client address for the mutating endpoints: `perMinute` requests in a burst, refilled
 * evenly over a minute. The table is bounded; when full, the least recently used client is forgotten (which
 * can only make the limit more lenient for that client, never exhaust memory).
 */
export interface RateDecision {
  ok: boolean;
  /** Seconds until a request would be allowed again (when refused). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perMinute: () => number,
    private readonly maxClients = 1024,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(client: string): RateDecision {
    const capacity = Math.max(1, this.perMinute());
    const ratePerMs = capacity / 60_000;
    const now = this.now();
    let b = this.buckets.get(client);
    if (b === undefined) {
      if (this.buckets.size >= this.maxClients) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: capacity, updatedMs: now };
    } else {
      this.buckets.delete(client);
      b.tokens = Math.min(capacity, b.tokens + (now - b.updatedMs) * ratePerMs);
      b.updatedMs = now;
    }
    // Re-inserted so that Map order is least-recently-used first.
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0 };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)) };
  }
}
