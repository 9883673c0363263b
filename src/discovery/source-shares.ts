/**
 * Which source address holds which registry entries, least recently seen first, and which source holds the
 * most: what a full registry needs to make room fairly (the largest holder gives up its stalest entry, so a
 * burst from one address cannot lock out everyone else). Every operation is O(1).
 *
 * The order is a list threaded through the entries themselves (ShareLinks): `touch()` runs for every accepted
 * datagram, and moving an entry to the back of its own source's list is a few pointer writes, where a Set
 * delete and re-add plus a lookup of the source cost more than the rest of the registry's work per datagram.
 */

/** A source's entries, oldest first. */
export interface SourceList<T> {
  readonly source: string;
  oldest: T | undefined;
  newest: T | undefined;
  size: number;
}

/** The links an item carries for its place in its source's list (undefined while in none). */
export interface ShareLinks<T> {
  shareOf: SourceList<T> | undefined;
  shareOlder: T | undefined;
  shareNewer: T | undefined;
}

export class SourceShares<T extends ShareLinks<T>> {
  readonly #bySource = new Map<string, SourceList<T>>();
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
    const own = item.shareOf;
    if (own !== undefined && own.source === source) {
      if (own.newest !== item) {
        unlink(own, item);
        append(own, item);
      }
      return;
    }
    if (own !== undefined) this.delete(own.source, item);
    let list = this.#bySource.get(source);
    if (list === undefined) {
      list = { source, oldest: undefined, newest: undefined, size: 0 };
      this.#bySource.set(source, list);
    }
    append(list, item);
    list.size++;
    this.#move(source, list.size - 1, list.size);
  }

  delete(source: string, item: T): void {
    const list = item.shareOf;
    if (list === undefined || list.source !== source) return;
    unlink(list, item);
    item.shareOf = undefined;
    list.size--;
    this.#move(source, list.size + 1, list.size);
    if (list.size === 0) this.#bySource.delete(source);
  }

  /** The least recently seen entry of the source holding the most entries. */
  oldestOfLargest(): T | undefined {
    const largest = this.#byCount.get(this.#maxCount)?.values().next().value;
    return largest === undefined ? undefined : this.#bySource.get(largest)?.oldest;
  }

  clear(): void {
    for (const list of this.#bySource.values()) {
      for (let item = list.oldest; item !== undefined; ) {
        const next: T | undefined = item.shareNewer;
        item.shareOf = undefined;
        item.shareOlder = undefined;
        item.shareNewer = undefined;
        item = next;
      }
    }
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

function unlink<T extends ShareLinks<T>>(list: SourceList<T>, item: T): void {
  const older = item.shareOlder;
  const newer = item.shareNewer;
  if (older === undefined) list.oldest = newer;
  else older.shareNewer = newer;
  if (newer === undefined) list.newest = older;
  else newer.shareOlder = older;
  item.shareOlder = undefined;
  item.shareNewer = undefined;
}

function append<T extends ShareLinks<T>>(list: SourceList<T>, item: T): void {
  item.shareOf = list;
  item.shareOlder = list.newest;
  item.shareNewer = undefined;
  if (list.newest === undefined) list.oldest = item;
  else list.newest.shareNewer = item;
  list.newest = item;
}
