/**
 * Recently decoded datagrams by their exact bytes, so that a sender repeating one static message (what the
 * original's publisher does every interval) is parsed once, not at every announcement. Keys are the bytes as
 * latin1 text, which maps bytes to characters one to one, so equal keys mean equal datagrams.
 *
 * It must never make the receive path slower than decoding: when lookups stop paying off (announcements with
 * a changing `seq`, a flood of unique payloads), it steps aside for a while and is not even keyed.
 */
const WINDOW = 1024;
const BYPASS = 16 * WINDOW;
/**
 * Entries kept, oldest dropped first. Senders repeat in a cycle, so a cache smaller than the number of services
 * that repeat never hits: 2,048 entries missed every time at 10,000 services, whose static announcements then
 * cost ~40 % more receive CPU (and five times the garbage collection) than with the cache hitting. 16,384
 * covers the default maxServices (10,000) with room; about 4 MiB at ~200-byte announcements.
 */
const CAPACITY = 16_384;

export class PayloadCache<V> {
  private readonly entries = new Map<string, V>();
  private lookups = 0;
  private hits = 0;
  /** Entries added in the current window: misses that fill the cache are warming it, not wasted. */
  private added = 0;
  private bypass = 0;

  constructor(
    private readonly capacity = CAPACITY,
    private readonly maxBytes = 1024,
  ) {}

  /** The key of `bytes`, or undefined when the cache is not consulted for this datagram. */
  key(bytes: Buffer): string | undefined {
    if (this.bypass > 0) {
      this.bypass--;
      return undefined;
    }
    return bytes.length <= this.maxBytes ? bytes.toString('latin1') : undefined;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) this.hits++;
    if (++this.lookups === WINDOW) {
      // Fewer than half the lookups hit, and the misses are not filling it (payloads that never repeat, or
      // more repeating senders than it holds): stop paying for keys and misses for a while.
      const warming = this.added * 2 >= WINDOW && this.entries.size < this.capacity;
      if (this.hits * 2 < WINDOW && !warming) this.bypass = BYPASS;
      this.lookups = 0;
      this.hits = 0;
      this.added = 0;
    }
    return value;
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
    this.added++;
  }

  clear(): void {
    this.entries.clear();
  }
}
