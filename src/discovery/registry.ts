/**
 * What a listener knows about the services on its group: one record per (type, address), with liveness
 * driven by a monotonic clock. The Python original only ever added addresses to a set; here a service that
 * stops announcing goes stale after its TTL, one that says goodbye is gone at once, and both stay visible
 * (marked down) for a retention window before they are forgotten, so alerts and the web page can show them.
 *
 * Cost: `observe()` is O(1) and runs once per accepted datagram. `sweep()` (call it about once a second)
 * costs O(services that change state) amortised: up services sit in a wheel of one-second buckets keyed by
 * the time they may expire, and are moved lazily (at most once per TTL) rather than on every announcement;
 * down services sit in one queue ordered by the time they are forgotten.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from './clock.js';
import { MAX_TEXT_FIELD_LENGTH } from './codec.js';
import {
  DEFAULT_MAX_REGISTRY_BYTES,
  DEFAULT_MAX_SERVICES,
  DEFAULT_RETENTION_SECONDS,
  SERVICE_TIMEOUT_SECONDS,
} from './constants.js';
import { isSendingTime } from './sending-time.js';
import { type SourceList, SourceShares } from './source-shares.js';
import type {
  Announcement,
  DownReason,
  RegistryStats,
  ServiceConflict,
  ServiceRecord,
  ServiceState,
} from './types.js';

export interface ServiceRegistryOptions {
  /** Milliseconds without an announcement before a service is stale, unless the announcement has a `ttl`. */
  serviceTimeoutMs?: number;
  /** Milliseconds a stale or gone service stays (marked down) before it is forgotten. */
  retentionMs?: number;
  /**
   * Services tracked at most, down ones included. When full, the oldest down service makes room; when all
   * are up, a source below its fair share takes the least recently seen entry of the largest source.
   */
  maxServices?: number;
  /**
   * Announcement bytes kept at most. Over it, the largest announcements lose their extra keys (`cut`); the
   * keys the library reads (type, name, host, port, …) are always kept.
   */
  maxBytes?: number;
  /** Only services whose type contains this string are tracked (the widget's filter); '' tracks all. */
  typeFilter?: string;
  clock?: Clock;
}

export type ObserveResult = 'accepted' | 'filtered' | 'service_limit';

/** Registry counters beyond RegistryStats: the two ways the bounds make room. */
export interface RegistryBoundStats {
  /** Up services forgotten to make room for a source holding fewer than its share. */
  evicted: number;
  /** Announcements whose extra keys were cut to stay under `maxBytes`. */
  cut: number;
}

export type ServiceRegistryEvents = {
  /** A service appeared: new, or back after going stale or gone. */
  up: [record: ServiceRecord];
  /** An up service announced again (also: a goodbye from an already stale service). */
  update: [record: ServiceRecord];
  down: [record: ServiceRecord, reason: DownReason];
  /** A down service left the registry (retention over, evicted to make room, or clear()). */
  removed: [record: ServiceRecord];
  conflict: [conflict: ServiceConflict];
};

export interface ServiceCounts {
  up: number;
  stale: number;
  gone: number;
}

/** Registry key of a service: its type and normal address, joined by NUL (which neither can contain). */
export function serviceKey(type: string, addr: string): string {
  return `${type}\0${addr}`;
}

/** Bucket width of the expiry wheel, ms. Any width is exact (buckets are checked entry by entry). */
const BUCKET_MS = 1000;
/** Entries a sweep handles between two looks at the clock. */
const SWEEP_CHECK_EVERY = 256;

interface PendingBucket {
  readonly bucket: number;
  readonly entries: Iterator<Entry>;
}
/**
 * Before every bucket. The smallest small integer rather than -Infinity: a field that ever holds a double is
 * boxed in V8, which would cost every entry a heap number.
 */
const UNSCHEDULED = -(2 ** 30);
/** A jump in `seq` bigger than this is a sender restarted with another counter, not lost announcements. */
export const MAX_SEQ_GAP = 100_000;

/** A record plus the registry's bookkeeping, which stays out of what consumers see and serialise. */
interface Entry {
  readonly rec: ServiceRecord;
  /** Wheel bucket holding the entry while up; never later than the bucket of its expiry time. */
  bucket: number;
  /** Up services with an explicit name: the name claimed (rec.name may change before the claim is dropped). */
  claimName: string | undefined;
  /** While another up service claims the same type and name: every claimant (so a datagram looks up nothing). */
  clash: Set<Entry> | undefined;
  /** Bytes counted against `maxBytes`: the datagram's size, or what is left once cut. */
  bytes: number;
  /** Size class (log2 of `bytes`) while the entry still has extra keys to cut; -1 otherwise. */
  sizeClass: number;
  /** Its place in its source's least-recently-seen order (SourceShares). */
  shareOf: SourceList<Entry> | undefined;
  shareOlder: Entry | undefined;
  shareNewer: Entry | undefined;
}

/** A source holding this many entries or fewer is never displaced to make room for another. */
export const FAIR_SHARE_FLOOR = 16;

/**
 * The keys the library reads from an announcement (its address among them: `addr`, or `ip` and `port`): kept
 * when the rest is cut, so a cut record still names and reaches its service (find(), the page's Connect).
 */
const IDENTITY_KEYS = new Set([
  'type',
  'name',
  'addr',
  'ip',
  'host',
  'port',
  'version',
  'timestamp',
  'ttl',
  'seq',
  'goodbye',
  'metrics_port',
]);
/**
 * An identity value whose JSON is longer than this is not one the library could read (the decoder takes text of
 * at most MAX_TEXT_FIELD_LENGTH characters): a cut drops it too, so no key can carry bulk past the bound.
 */
const MAX_IDENTITY_VALUE_CHARS = 4 * MAX_TEXT_FIELD_LENGTH;
/** Identity keys at their longest, with JSON punctuation: an announcement above this has bulk to cut. */
const MAX_IDENTITY_BYTES = IDENTITY_KEYS.size * (MAX_IDENTITY_VALUE_CHARS + 32);

function identityOnly(data: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of IDENTITY_KEYS) {
    if (!Object.hasOwn(data, key)) continue;
    const value = data[key];
    const short =
      typeof value === 'string'
        ? value.length <= MAX_IDENTITY_VALUE_CHARS
        : typeof value !== 'object' ||
          value === null ||
          JSON.stringify(value).length <= MAX_IDENTITY_VALUE_CHARS;
    if (short) kept[key] = value;
  }
  return kept;
}

/** Whether cutting `data` to its identity would save anything: it has other keys, or bulk in identity keys. */
function cuttable(data: Record<string, unknown>, bytes: number): boolean {
  if (bytes > MAX_IDENTITY_BYTES) return true;
  for (const key in data) if (!IDENTITY_KEYS.has(key)) return true;
  return false;
}

/** Adds `entry` to the set under `key`, creating the set on first use; returns the set. */
function addToSet<K>(map: Map<K, Set<Entry>>, key: K, entry: Entry): Set<Entry> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(entry);
  return set;
}

/** Removes `entry` from the set under `key`, dropping the set when it empties so maps stay small. */
function removeFromSet<K>(map: Map<K, Set<Entry>>, key: K, entry: Entry): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(entry);
  if (set.size === 0) map.delete(key);
}

function positive(name: string, value: number, allowZero: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
  return value;
}

/** The settings `configure()` may change on a running registry. */
export type ServiceRegistrySettings = Pick<
  ServiceRegistryOptions,
  'serviceTimeoutMs' | 'retentionMs' | 'maxServices' | 'maxBytes' | 'typeFilter'
>;

export class ServiceRegistry extends EventEmitter<ServiceRegistryEvents> {
  serviceTimeoutMs: number;
  retentionMs: number;
  maxServices: number;
  maxBytes: number;
  typeFilter: string;
  readonly stats: RegistryStats = { discovered: 0, expired: 0, goodbyes: 0, conflicts: 0, refused: 0 };
  readonly boundStats: RegistryBoundStats = { evicted: 0, cut: 0 };

  readonly #clock: Clock;
  /**
   * type → addr → entry. Two lookups with the strings as decoded beat building and hashing a joined key
   * for every datagram.
   */
  readonly #byType = new Map<string, Map<string, Entry>>();
  #removals = 0;
  #size = 0;
  /** Expiry wheel: bucket number → up entries that may expire in or after that bucket. */
  readonly #wheel = new Map<number, Set<Entry>>();
  /** Every bucket below this one has been swept. */
  #sweptFrom = UNSCHEDULED;
  /** The rest of a bucket whose sweep was cut short. */
  #pending: PendingBucket | undefined;
  /** Stale and gone entries in the order they went down, which is the order they are forgotten. */
  readonly #down = new Map<string, Entry>();
  /**
   * type → name → the up entry announcing that explicit name, or the entries when several do (a conflict).
   * Two levels and a set only for a clash: a key string and a set per named service cost ~200 bytes each.
   */
  readonly #claims = new Map<string, Map<string, Entry | Set<Entry>>>();
  readonly #counts: ServiceCounts = { up: 0, stale: 0, gone: 0 };
  readonly #shares = new SourceShares<Entry>();
  /** Size class → entries that still have extra keys; the largest class is cut first. */
  readonly #sizeClasses: Set<Entry>[] = Array.from({ length: 32 }, () => new Set<Entry>());
  #bytes = 0;

  constructor(options: ServiceRegistryOptions = {}) {
    super();
    this.serviceTimeoutMs = positive(
      'serviceTimeoutMs',
      options.serviceTimeoutMs ?? SERVICE_TIMEOUT_SECONDS * 1000,
      false,
    );
    this.retentionMs = positive('retentionMs', options.retentionMs ?? DEFAULT_RETENTION_SECONDS * 1000, true);
    const max = options.maxServices ?? DEFAULT_MAX_SERVICES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxServices must be >= 1, got ${max}`);
    this.maxServices = max;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_REGISTRY_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new RangeError(`maxBytes must be >= 1, got ${maxBytes}`);
    this.maxBytes = maxBytes;
    this.typeFilter = options.typeFilter ?? '';
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Changes settings in place (a reload), keeping every record, its sequence tracking and the lifetime stats.
   * All values are checked before any is applied. The new timeout applies from each service's next
   * announcement and the new retention from its next change of state; a lower maxServices evicts nothing at
   * once, it applies to the next new service; a new typeFilter keeps the services already tracked.
   */
  configure(settings: ServiceRegistrySettings): void {
    const timeout = positive('serviceTimeoutMs', settings.serviceTimeoutMs ?? this.serviceTimeoutMs, false);
    const retention = positive('retentionMs', settings.retentionMs ?? this.retentionMs, true);
    const max = settings.maxServices ?? this.maxServices;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxServices must be >= 1, got ${max}`);
    const maxBytes = settings.maxBytes ?? this.maxBytes;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new RangeError(`maxBytes must be >= 1, got ${maxBytes}`);
    this.serviceTimeoutMs = timeout;
    this.maxBytes = maxBytes;
    this.retentionMs = retention;
    this.maxServices = max;
    this.typeFilter = settings.typeFilter ?? this.typeFilter;
    // A lower byte bound applies at once: static senders, whose repeats are not re-counted, would never trim.
    this.#trim();
  }

  /** Services tracked, down ones included. */
  get size(): number {
    return this.#size;
  }

  /** Announcement bytes kept, counted against `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Services by state (kept up to date as they change, so this is cheap). */
  counts(): ServiceCounts {
    return { up: this.#counts.up, stale: this.#counts.stale, gone: this.#counts.gone };
  }

  get(key: string): ServiceRecord | undefined {
    const nul = key.indexOf('\0');
    if (nul < 0) return undefined;
    return this.#byType.get(key.slice(0, nul))?.get(key.slice(nul + 1))?.rec;
  }

  /**
   * How many services were forgotten since the registry was made. A walk over services() during which it did
   * not change met no service twice (only a service forgotten and learned again comes round a second time).
   */
  get removals(): number {
    return this.#removals;
  }

  *services(): IterableIterator<ServiceRecord> {
    for (const byAddr of this.#byType.values()) for (const entry of byAddr.values()) yield entry.rec;
  }

  /**
   * Records one announcement received from `source`. `nowMonoMs` lets a caller that already read the
   * monotonic clock for this datagram pass it on. Returns what became of it: 'filtered' (type filter),
   * 'service_limit' (a new service while the registry is full and nothing can make room) or 'accepted'.
   * `bytes` is the datagram's size (default: the size of `a.data` as JSON).
   */
  observe(
    a: Announcement,
    source: string,
    nowMonoMs: number = this.#clock.monotonicMs(),
    bytes?: number,
  ): ObserveResult {
    if (this.typeFilter !== '' && !a.type.includes(this.typeFilter)) return 'filtered';
    const entry = this.#byType.get(a.type)?.get(a.addr);
    const wallMs = this.#clock.wallMs();
    if (entry === undefined) {
      // A goodbye from a service never seen leaves nothing to mark.
      if (a.goodbye) return 'accepted';
      if (this.#size >= this.maxServices && !this.#evictOldestDown() && !this.#evictForShare(source)) {
        this.stats.refused++;
        return 'service_limit';
      }
      this.#add(a, source, nowMonoMs, wallMs, bytes);
      return 'accepted';
    }
    const rec = entry.rec;
    this.#keep(entry, a.data, bytes);
    // The sweep may be late (a stalled event loop): a service past its expiry is down, whatever comes now.
    if (rec.state === 'up' && nowMonoMs >= rec.expiresAtMonoMs) this.#markDown(entry, 'expired', nowMonoMs);
    const wasUp = rec.state === 'up';
    const nameChanged = rec.name !== a.name;
    this.#refresh(entry, a, source, nowMonoMs, wallMs);

    if (a.goodbye) {
      if (wasUp) this.#markDown(entry, 'goodbye', nowMonoMs);
      else {
        if (rec.state === 'stale') this.#setDownState(entry, 'gone', nowMonoMs);
        this.emit('update', rec);
      }
      return 'accepted';
    }
    if (!wasUp) {
      this.#down.delete(rec.key);
      this.#setCount(rec.state, -1);
      rec.state = 'up';
      rec.forgetAtMonoMs = undefined;
      this.#comeUp(entry, wallMs);
      return 'accepted';
    }
    // Entries move in the wheel lazily, except when a shorter TTL brings their expiry forward.
    if (Math.floor(rec.expiresAtMonoMs / BUCKET_MS) < entry.bucket) {
      this.#unschedule(entry);
      this.#schedule(entry);
    }
    if (nameChanged) {
      this.#unclaim(entry);
      this.#claim(entry);
    }
    this.emit('update', rec);
    this.#checkConflict(entry, nameChanged, wallMs);
    return 'accepted';
  }

  /**
   * Marks up services whose time ran out as stale and forgets down services whose retention is over.
   * Call it about once a second; a late call (stalled event loop) catches up in one pass.
   *
   * `untilMs` (a performance.now() time) cuts the pass short: it returns false with work left, and the next
   * call goes on where it stopped. Services learned together expire together, so one pass may re-file a
   * whole registry at once (~22 ms at 100,000 services, every serviceTimeout); a caller that cannot hold the
   * loop that long passes a deadline and calls again. Without one it always finishes and returns true.
   */
  sweep(nowMonoMs: number = this.#clock.monotonicMs(), untilMs = Number.POSITIVE_INFINITY): boolean {
    if (this.#pending !== undefined && !this.#sweepPending(nowMonoMs, untilMs)) return false;
    const nowBucket = Math.floor(nowMonoMs / BUCKET_MS);
    if (this.#wheel.size > 0) {
      const span = nowBucket - this.#sweptFrom + 1;
      if (span <= this.#wheel.size) {
        for (let b = this.#sweptFrom; b <= nowBucket; b++) {
          // A pass cut short goes on from this bucket.
          this.#sweptFrom = b;
          if (!this.#sweepBucket(b, nowMonoMs, untilMs)) return false;
        }
      } else {
        // After a long pause there are fewer buckets than seconds passed: visit the buckets instead.
        const due: number[] = [];
        for (const b of this.#wheel.keys()) if (b <= nowBucket) due.push(b);
        due.sort((x, y) => x - y);
        for (const b of due) if (!this.#sweepBucket(b, nowMonoMs, untilMs)) return false;
      }
    }
    // Everything scheduled later lands in nowBucket or after; nowBucket itself may still hold entries.
    if (nowBucket > this.#sweptFrom) this.#sweptFrom = nowBucket;

    let n = 0;
    for (const entry of this.#down.values()) {
      const forgetAt = entry.rec.forgetAtMonoMs;
      if (forgetAt === undefined || forgetAt > nowMonoMs) break;
      this.#remove(entry);
      if (++n % SWEEP_CHECK_EVERY === 0 && performance.now() >= untilMs) return false;
    }
    return true;
  }

  /** Forgets every service (the widget's Refresh). Emits `removed` for each; lifetime stats are kept. */
  clear(): void {
    const entries = [...this.#byType.values()].flatMap((byAddr) => [...byAddr.values()]);
    this.#byType.clear();
    this.#size = 0;
    this.#wheel.clear();
    this.#pending = undefined;
    this.#down.clear();
    this.#claims.clear();
    this.#counts.up = 0;
    this.#counts.stale = 0;
    this.#counts.gone = 0;
    this.#shares.clear();
    for (const set of this.#sizeClasses) set.clear();
    this.#bytes = 0;
    for (const entry of entries) {
      entry.bucket = UNSCHEDULED;
      entry.claimName = undefined;
      entry.clash = undefined;
    }
    this.#removals += entries.length;
    for (const entry of entries) this.emit('removed', entry.rec);
  }

  #add(a: Announcement, source: string, nowMonoMs: number, wallMs: number, bytes: number | undefined): void {
    const key = serviceKey(a.type, a.addr);
    const ttlMs = this.#ttlMs(a);
    const rec: ServiceRecord = {
      key,
      type: a.type,
      name: a.name,
      addr: a.addr,
      host: a.host,
      port: a.port,
      version: a.version,
      metricsPort: a.metricsPort,
      state: 'up',
      source,
      firstSeenWallMs: wallMs,
      lastSeenWallMs: wallMs,
      lastSeenMonoMs: nowMonoMs,
      expiresAtMonoMs: nowMonoMs + ttlMs,
      forgetAtMonoMs: undefined,
      ttlMs,
      packets: 1,
      lost: 0,
      lastSeq: a.seq,
      timestamp: a.timestamp,
      ageSeconds: isSendingTime(a, undefined, false) ? wallMs / 1000 - (a.timestamp as number) : undefined,
      data: a.data,
      // Present from the start: a property added later would give every record a second backing store.
      cut: undefined,
    };
    const entry: Entry = {
      rec,
      bucket: UNSCHEDULED,
      claimName: undefined,
      clash: undefined,
      bytes: 0,
      sizeClass: -1,
      shareOf: undefined,
      shareOlder: undefined,
      shareNewer: undefined,
    };
    this.#shares.touch(source, entry);
    this.#keep(entry, a.data, bytes);
    let byAddr = this.#byType.get(a.type);
    if (byAddr === undefined) {
      byAddr = new Map();
      this.#byType.set(a.type, byAddr);
    }
    byAddr.set(a.addr, entry);
    this.#size++;
    this.#comeUp(entry, wallMs);
  }

  /** A new service, or a known one back from stale or gone: counted, scheduled for expiry, announced. */
  #comeUp(entry: Entry, wallMs: number): void {
    this.#counts.up++;
    this.stats.discovered++;
    this.#schedule(entry);
    this.#claim(entry);
    this.emit('up', entry.rec);
    this.#checkConflict(entry, true, wallMs);
  }

  #refresh(entry: Entry, a: Announcement, source: string, nowMonoMs: number, wallMs: number): void {
    const rec = entry.rec;
    const ttlMs = this.#ttlMs(a);
    rec.name = a.name;
    rec.version = a.version;
    rec.metricsPort = a.metricsPort;
    // The source's share moves with rec.source in one step: #remove() takes the entry from rec.source's share,
    // so the two must never disagree (a throwing 'down' handler before this point must not split them).
    this.#shares.touch(source, entry);
    // Each datagram brings its own copy of the address: keep the one held, a copy per service is enough.
    if (rec.source !== source) rec.source = source;
    rec.lastSeenWallMs = wallMs;
    rec.lastSeenMonoMs = nowMonoMs;
    rec.ttlMs = ttlMs;
    rec.expiresAtMonoMs = nowMonoMs + ttlMs;
    rec.packets++;
    const stamped = isSendingTime(a, rec, rec.ageSeconds !== undefined);
    rec.ageSeconds = stamped ? wallMs / 1000 - (a.timestamp as number) : undefined;
    rec.timestamp = a.timestamp;
    const seq = a.seq;
    if (seq !== undefined) {
      const last = rec.lastSeq;
      // A seq at or below the last one is a restarted sender (or a duplicate), not a loss.
      if (last !== undefined && seq > last + 1 && seq - last - 1 <= MAX_SEQ_GAP) rec.lost += seq - last - 1;
      rec.lastSeq = seq;
    }
  }

  /** Keeps `data` as the entry's announcement, then cuts the largest ones while over `maxBytes`. */
  #keep(entry: Entry, data: Record<string, unknown>, bytes: number | undefined): void {
    const rec = entry.rec;
    // The same decoded announcement again (a sender repeating a static message, decoded once): it is counted
    // already (bytes 0 only before the first count).
    if (data === rec.data && rec.cut === undefined && entry.bytes !== 0) return;
    rec.data = data;
    rec.cut = undefined;
    this.#unsize(entry);
    entry.bytes = bytes ?? JSON.stringify(data).length;
    this.#bytes += entry.bytes;
    if (cuttable(data, entry.bytes)) {
      entry.sizeClass = 31 - Math.clz32(entry.bytes);
      this.#sizeClasses[entry.sizeClass]!.add(entry);
    }
    this.#trim();
  }

  /** Cuts the largest announcements that still have something to cut while over `maxBytes`. */
  #trim(): void {
    for (let c = 31; c >= 0 && this.#bytes > this.maxBytes; ) {
      const largest = this.#sizeClasses[c]!.values().next();
      if (largest.done) {
        c--;
        continue;
      }
      this.#cut(largest.value);
    }
  }

  #cut(entry: Entry): void {
    const rec = entry.rec;
    const full = entry.bytes;
    this.#unsize(entry);
    rec.data = identityOnly(rec.data);
    rec.cut = true;
    entry.bytes = Math.min(Buffer.byteLength(JSON.stringify(rec.data)), full);
    this.#bytes += entry.bytes;
    this.boundStats.cut++;
  }

  /** Takes the entry's bytes out of the count and its size class. */
  #unsize(entry: Entry): void {
    this.#bytes -= entry.bytes;
    entry.bytes = 0;
    if (entry.sizeClass >= 0) this.#sizeClasses[entry.sizeClass]!.delete(entry);
    entry.sizeClass = -1;
  }

  /** The decoder only yields positive finite ttls; hand-made announcements with others get the timeout. */
  #ttlMs(a: Announcement): number {
    const ttl = a.ttl;
    return ttl !== undefined && ttl > 0 && ttl < Number.POSITIVE_INFINITY
      ? ttl * 1000
      : this.serviceTimeoutMs;
  }

  #markDown(entry: Entry, reason: DownReason, nowMonoMs: number): void {
    const rec = entry.rec;
    this.#unschedule(entry);
    this.#unclaim(entry);
    this.#counts.up--;
    rec.state = reason === 'goodbye' ? 'gone' : 'stale';
    this.#setCount(rec.state, 1);
    rec.forgetAtMonoMs = nowMonoMs + this.retentionMs;
    this.#down.set(rec.key, entry);
    if (reason === 'goodbye') this.stats.goodbyes++;
    else this.stats.expired++;
    this.emit('down', rec, reason);
  }

  /** Moves a down entry to another down state; its retention starts again. */
  #setDownState(entry: Entry, state: ServiceState, nowMonoMs: number): void {
    const rec = entry.rec;
    this.#setCount(rec.state, -1);
    rec.state = state;
    this.#setCount(state, 1);
    rec.forgetAtMonoMs = nowMonoMs + this.retentionMs;
    this.#down.delete(rec.key);
    this.#down.set(rec.key, entry);
  }

  #setCount(state: ServiceState, delta: number): void {
    this.#counts[state] += delta;
  }

  #remove(entry: Entry): void {
    const rec = entry.rec;
    const byAddr = this.#byType.get(rec.type);
    if (byAddr?.delete(rec.addr)) {
      this.#size--;
      if (byAddr.size === 0) this.#byType.delete(rec.type);
    }
    this.#down.delete(rec.key);
    this.#unschedule(entry);
    this.#unclaim(entry);
    this.#shares.delete(rec.source, entry);
    this.#unsize(entry);
    this.#setCount(rec.state, -1);
    this.#removals++;
    this.emit('removed', rec);
  }

  /** Makes room by forgetting the service that went down first. False when every service is up. */
  #evictOldestDown(): boolean {
    const oldest = this.#down.values().next();
    if (oldest.done) return false;
    this.#remove(oldest.value);
    return true;
  }

  /**
   * Every service is up. A source holding less than its share (the registry divided among the sources that
   * hold entries, this one included) takes the least recently seen entry of the source holding the most, if
   * that one holds more than its share and more than FAIR_SHARE_FLOOR; otherwise the newcomer is refused. So a
   * burst from one address locks out nobody but itself, and a flood from many spoofed addresses, each holding
   * a few entries, cannot displace a host's handful of services.
   */
  #evictForShare(source: string): boolean {
    const own = this.#shares.count(source);
    const share = Math.floor(this.maxServices / (this.#shares.sources + (own === 0 ? 1 : 0)));
    if (own >= share) return false;
    const victim = this.#shares.oldestOfLargest();
    if (victim === undefined) return false;
    const largest = this.#shares.count(victim.rec.source);
    if (largest <= share || largest <= FAIR_SHARE_FLOOR) return false;
    this.boundStats.evicted++;
    this.#remove(victim);
    return true;
  }

  #schedule(entry: Entry): void {
    // Never file behind the sweep (a caller may pass an older `nowMonoMs`): such a bucket would not be visited.
    const b = Math.max(Math.floor(entry.rec.expiresAtMonoMs / BUCKET_MS), this.#sweptFrom);
    addToSet(this.#wheel, b, entry);
    entry.bucket = b;
  }

  #unschedule(entry: Entry): void {
    if (entry.bucket === UNSCHEDULED) return;
    removeFromSet(this.#wheel, entry.bucket, entry);
    entry.bucket = UNSCHEDULED;
  }

  /** Sweeps bucket `b`; false when `untilMs` came first (the rest is #pending). */
  #sweepBucket(b: number, nowMonoMs: number, untilMs: number): boolean {
    const bucket = this.#wheel.get(b);
    if (bucket === undefined) return true;
    // Detach first: entries that are not due yet are re-filed, possibly into this same bucket number.
    this.#wheel.delete(b);
    this.#pending = { bucket: b, entries: bucket.values() };
    return this.#sweepPending(nowMonoMs, untilMs);
  }

  #sweepPending(nowMonoMs: number, untilMs: number): boolean {
    const pending = this.#pending as PendingBucket;
    const b = pending.bucket;
    let n = 0;
    for (let next = pending.entries.next(); !next.done; next = pending.entries.next()) {
      const entry = next.value;
      // A handler of an earlier event, or an announcement while the pass was cut short, may have removed,
      // re-filed or cleared it meanwhile.
      if (entry.bucket === b && entry.rec.state === 'up') {
        entry.bucket = UNSCHEDULED;
        if (entry.rec.expiresAtMonoMs <= nowMonoMs) this.#markDown(entry, 'expired', nowMonoMs);
        else this.#schedule(entry);
      }
      if (++n % SWEEP_CHECK_EVERY === 0 && performance.now() >= untilMs) return false;
    }
    this.#pending = undefined;
    return true;
  }

  /** Names equal to the type are the default for senders that give none, and claim nothing. */
  #claim(entry: Entry): void {
    const rec = entry.rec;
    const name = rec.name;
    if (name === rec.type) return;
    let byName = this.#claims.get(rec.type);
    if (byName === undefined) {
      byName = new Map();
      this.#claims.set(rec.type, byName);
    }
    const held = byName.get(name);
    if (held === undefined) byName.set(name, entry);
    else if (held instanceof Set) {
      held.add(entry);
      entry.clash = held;
    } else if (held !== entry) {
      const clash = new Set([held, entry]);
      byName.set(name, clash);
      held.clash = clash;
      entry.clash = clash;
    }
    entry.claimName = name;
  }

  #unclaim(entry: Entry): void {
    const name = entry.claimName;
    if (name === undefined) return;
    entry.claimName = undefined;
    const type = entry.rec.type;
    const byName = this.#claims.get(type);
    const held = byName?.get(name);
    if (byName === undefined || held === undefined) return;
    if (held instanceof Set) {
      held.delete(entry);
      entry.clash = undefined;
      // Back to a lone claimant: the set goes, so only clashes cost one.
      if (held.size === 1) {
        const alone = held.values().next().value as Entry;
        alone.clash = undefined;
        byName.set(name, alone);
      }
      return;
    }
    if (held !== entry) return;
    byName.delete(name);
    if (byName.size === 0) this.#claims.delete(type);
  }

  /**
   * Counts an announcement whose type and name another up service also announces. The event fires when the
   * clash begins (this service came up or took the name), not on every announcement while it lasts.
   */
  #checkConflict(entry: Entry, starting: boolean, wallMs: number): void {
    const claim = entry.clash;
    if (claim === undefined) return;
    this.stats.conflicts++;
    if (!starting) return;
    let existing: Entry | undefined;
    for (const other of claim) {
      if (other !== entry) {
        existing = other;
        break;
      }
    }
    if (existing === undefined) return;
    const rec = entry.rec;
    this.emit('conflict', {
      type: rec.type,
      name: rec.name,
      existingAddr: existing.rec.addr,
      addr: rec.addr,
      wallMs,
    });
  }
}
