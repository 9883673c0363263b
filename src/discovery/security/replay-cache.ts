/**
 * The MACs of recently accepted signed announcements, so the same datagram heard twice within the replay
 * window is refused. Only MACs that verified are stored, so a stranger without a key cannot fill it; a flood
 * of genuine traffic beyond `capacity` within one window evicts the oldest entries early, which would let a
 * replay of those through: size it above (signed announcements per second) × (2 × window).
 * The default, 65,536 entries (1 MiB), covers about 1,000 signed announcements per second at a 30 s window.
 */
import { BoundedExpiringSet } from './expiring-set.js';

export const DEFAULT_REPLAY_CACHE_ENTRIES = 65_536;

export class ReplayCache {
  private readonly set: BoundedExpiringSet;

  constructor(capacity = DEFAULT_REPLAY_CACHE_ENTRIES) {
    this.set = new BoundedExpiringSet(capacity);
  }

  get size(): number {
    return this.set.size;
  }

  get capacity(): number {
    return this.set.capacity;
  }

  /** Still-replayable entries pushed out early because the cache was full. */
  get evictions(): number {
    return this.set.evictions;
  }

  /**
   * Records a verified MAC until `untilMonoMs`. Returns false when it was already recorded (a replay).
   * 48 bits of an HMAC-SHA-256 identify it: collisions between genuine MACs are ~n²/2⁴⁹ unlikely, and nobody
   * without the key can choose one.
   */
  remember(mac: Uint8Array, nowMonoMs: number, untilMonoMs: number): boolean {
    const id =
      (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16)) * 0x1000000 + (mac[3]! | (mac[4]! << 8) | (mac[5]! << 16));
    if (this.set.has(id, nowMonoMs)) return false;
    this.set.add(id, untilMonoMs);
    return true;
  }
}
