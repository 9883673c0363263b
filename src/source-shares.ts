/**
 * Which source address holds which registry entries, least recently seen first, and which source holds the
 * most: what a full registry needs to make room fairly (the largest holder gives up its stalest entry, so a
 * burst from one address cannot lock out everyone else). Every operation is O(1).
 */
export class SourceShares<T> {
  /** Source → its entries, in the order they were last seen (oldest first). */
  readonly #bySource = new Map<string, Set<T>>();
  /** Entry count → sources holding exactly that many. */
  readonly #byCount = new Map<number, Set<string>>();
  #maxCount = 0;

  /** Sources holding at least one entry. */
  get sources(): number {
    return this.#bySource.size;
  }

  count(source: string): number {
    return this.#bySource.get(source)?.size ?? 0;
  }

  /** Records `item` as seen just now from `source` (moving it to the back of that source's order). */
  touch(source: string, item: T): void {
    let set = this.#bySource.get(source);
    if (set === undefined) {
      set = new Set();
      this.#bySource.set(source, set);
    }
    if (set.delete(item)) {
      set.add(item);
      return;
    }
    set.add(item);
    this.#move(source, set.size - 1, set.size);
  }

  delete(source: string, item: T): void {
    const set = this.#bySource.get(source);
    if (set === undefined || !set.delete(item)) return;
    this.#move(source, set.size + 1, set.size);
    if (set.size === 0) this.#bySource.delete(source);
  }

  /** The least recently seen entry of the source holding the most entries. */
  oldestOfLargest(): T | undefined {
    const largest = this.#byCount.get(this.#maxCount)?.values().next().value;
    return largest === undefined ? undefined : this.#bySource.get(largest)?.values().next().value;
  }

  clear(): void {
    this.#bySource.clear();
    this.#byCount.clear();
    this.#maxCount = 0;
  }

  #move(source: string, from: number, to: number): void {
    if (from > 0) {
      const set = this.#byCount.get(from);
      set?.delete(source);
      if (set?.size === 0) this.#byCount.delete(from);
    }
    if (to > 0) {
      let set = this.#byCount.get(to);
      if (set === undefined) {
        set = new Set();
        this.#byCount.set(to, set);
      }
      set.add(source);
    }
    if (to > this.#maxCount) this.#maxCount = to;
    else if (from === this.#maxCount && !this.#byCount.has(from)) this.#maxCount = to;
  }
}
