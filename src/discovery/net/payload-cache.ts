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

export class PayloadCache<V> {
  private readonly entries = new Map<string, V>();
  private lookups = 0;
  private hits = 0;
  private bypass = 0;

  constructor(
    private readonly capacity = 2048,
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
      // Fewer than half the lookups hit: the traffic does not repeat; stop paying for keys and misses.
      if (this.hits * 2 < WINDOW) this.bypass = BYPASS;
      this.lookups = 0;
      this.hits = 0;
    }
    return value;
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }
}
