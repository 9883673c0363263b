/**
 * A bounded set of numbers, each remembered until a monotonic deadline: the memory of the duplicate filter
 * and of the replay cache. Entries sit in a ring in insertion order; because callers insert with
 * `now + fixed window`, that is also expiry order, so expiry and eviction take the oldest entry in O(1)
 * without allocating an iterator per datagram. Memory is fixed at construction (16 bytes per slot plus the
 * Map), whatever is thrown at it.
 */
export class BoundedExpiringSet {
  /** value → monotonic ms at which it is forgotten. */
  private readonly deadlines = new Map<number, number>();
  private readonly ringValue: Float64Array;
  private readonly ringDeadline: Float64Array;
  private head = 0;
  private count = 0;
  readonly capacity: number;
  /** Entries pushed out before their deadline because the set was full. */
  evictions = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
    this.ringValue = new Float64Array(this.capacity);
    this.ringDeadline = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.deadlines.size;
  }

  /** True when `value` was added and its deadline has not passed. */
  has(value: number, now: number): boolean {
    this.expire(now);
    const deadline = this.deadlines.get(value);
    return deadline !== undefined && deadline > now;
  }

  add(value: number, deadline: number): void {
    if (this.count === this.capacity) {
      this.popOldest();
      this.evictions++;
    }
    this.deadlines.set(value, deadline);
    const tail = (this.head + this.count) % this.capacity;
    this.ringValue[tail] = value;
    this.ringDeadline[tail] = deadline;
    this.count++;
  }

  /** Amortised expiry: two pops per call outpace one insertion per call. */
  private expire(now: number): void {
    for (let i = 0; i < 2 && this.count > 0 && this.ringDeadline[this.head]! <= now; i++) this.popOldest();
  }

  private popOldest(): void {
    const value = this.ringValue[this.head]!;
    // The same value may have been added again after it expired; only the newest slot owns the Map entry.
    if (this.deadlines.get(value) === this.ringDeadline[this.head]) this.deadlines.delete(value);
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}
