import type { RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from './clock.js';
import { decodeAnnouncement } from './codec.js';
import {
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_SERVICES,
  DEFAULT_MULTICAST_GROUP,
  DEFAULT_PORT,
  DEFAULT_RECEIVE_BUFFER_BYTES,
  DEFAULT_RECONCILE_INTERVAL_MS,
  DEFAULT_RETENTION_SECONDS,
  DEFAULT_TIMEOUT,
  SERVICE_TIMEOUT_SECONDS,
} from './constants.js';
import { type DropReason, ERROR_REASONS, emptyDropCounts } from './drop-reasons.js';
import { errorCode, errorMessage } from './errors.js';
import { emptyIgnoredCounts, IGNORED_FIELDS, type IgnoredField } from './ignored-fields.js';
import { meterInstruments } from './instruments.js';
import './net/dispose.js';
import type {
  ListenerCallback,
  ListenerEvents,
  ListenerMetrics,
  ListenerOptions,
  ListenerSettings,
} from './listener-types.js';
import { checkEndpoint, type Endpoint } from './net/endpoint.js';
import { type IpFamily, normaliseInterfaces } from './net/interfaces.js';
import { PayloadCache } from './net/payload-cache.js';
import { type ReceiveBufferReport, sizeReceiveBuffer } from './net/receive-buffer.js';
import { ReceiveQueue, type ReceiveQueueStats } from './net/receive-queue.js';
import { Receivers } from './net/receivers.js';
import { ServiceRegistry } from './registry.js';
import {
  type FindOptions,
  findService,
  type ServiceEvent,
  type ServiceFilter,
  type ServicesOptions,
  serviceEvents,
} from './service-events.js';
import type {
  Announcement,
  DecodeOptions,
  ListenerStats,
  MembershipStatus,
  ReceiveGuard,
  ServiceRecord,
  SocketProblem,
  SourceInfo,
} from './types.js';

const SWEEP_INTERVAL_MS = 1000;
/** Longest stretch of one sweep before the loop turns (the receive path goes on meanwhile). */
const SWEEP_SLICE_MS = 2;
/**
 * A move to another group or port keeps the old sockets joined this long after the new ones joined, then open
 * as long again after leaving, so that what the kernel had already queued for them is read, not discarded.
 */
const OVERLAP_MS = 100;

interface Baseline {
  packetsReceived: number;
  bytesReceived: number;
  accepted: number;
  dropped: Record<DropReason, number>;
  ignoredFields: Record<IgnoredField, number>;
  errors: number;
  callbackErrors: number;
  discovered: number;
  expired: number;
  goodbyes: number;
  conflicts: number;
  refused: number;
}

/**
 * Receives service announcements on one multicast group and port: the TypeScript form of the original's
 * VaultMultiListener, plus a service registry with expiry, per-interface memberships that heal themselves,
 * isolation between groups sharing a port, and counters that exporters read at scrape time.
 */
export class VaultMultiListener extends EventEmitter<ListenerEvents> {
  readonly timeout: number;
  readonly registry: ServiceRegistry;
  /** Lifetime totals; they only grow (resetMetrics() moves a baseline instead). */
  readonly stats: ListenerStats;

  // The settings a reload may change in place (reconfigure()); read them through the getters below.
  private groupValue: string;
  private portValue: number;
  private interfacesValue: 'all' | string[];
  private family: IpFamily;
  private where: string;
  private receiveBufferSize: number;
  private guards: ReceiveGuard[];
  private decodeOptions: DecodeOptions;
  private readonly reuseAddr: boolean;
  private readonly reconcileIntervalMs: number;
  private readonly clock: Clock;
  private readonly callback: ListenerCallback | undefined;

  private readonly decoded = new PayloadCache<Announcement>();
  /** Where the sockets' datagrams go: handled at once, or held while the socket has more waiting. */
  private readonly queue: ReceiveQueue;
  /** The sockets and memberships; new ones for each start and each move to another group or port. */
  private receivers: Receivers;
  /** The sockets a move left behind, still draining: stop() closes them too. */
  private draining: Receivers | undefined;
  /** The last move; stop() waits for it, so that no socket a move opened outlives the stop. */
  private moveSettled: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** A sweep cut into slices is under way: the timer does not start another. */
  private sweeping = false;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private running = false;
  /** While a move binds its new sockets, the reconcile pass must not open a second set of its own. */
  private moving = false;
  private starting: Promise<void> | undefined;
  private startedMonoMs: number;
  private baseline: Baseline;
  /** Monotonic ms of the last resetMetrics(), undefined before the first. */
  private resetMonoMs: number | undefined;
  private bufferReport: ReceiveBufferReport | undefined;

  constructor(options: ListenerOptions = {}) {
    super();
    const endpoint = checkEndpoint(options.group ?? DEFAULT_MULTICAST_GROUP, options.port ?? DEFAULT_PORT);
    this.groupValue = endpoint.group;
    this.portValue = endpoint.port;
    this.where = endpoint.where;
    this.family = endpoint.family;
    this.interfacesValue = normaliseInterfaces(options.interfaces);
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.receiveBufferSize = options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER_BYTES;
    this.reuseAddr = options.reuseAddr ?? true;
    this.reconcileIntervalMs = options.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL_MS;
    this.clock = options.clock ?? systemClock;
    this.queue = new ReceiveQueue(this.onDatagram, () => this.clock.monotonicMs(), options.receiveQueue);
    this.guards = [...(options.guards ?? [])];
    this.callback = options.callback;
    this.decodeOptions = {
      maxBytes: options.bufferSize ?? DEFAULT_BUFFER_SIZE,
      extensions: options.extensions ?? true,
    };
    this.registry = new ServiceRegistry({
      serviceTimeoutMs: (options.serviceTimeout ?? SERVICE_TIMEOUT_SECONDS) * 1000,
      retentionMs: (options.retention ?? DEFAULT_RETENTION_SECONDS) * 1000,
      maxServices: options.maxServices ?? DEFAULT_MAX_SERVICES,
      maxBytes: options.maxRegistryBytes,
      typeFilter: options.typeFilter ?? '',
      clock: this.clock,
    });
    this.stats = {
      packetsReceived: 0,
      bytesReceived: 0,
      accepted: 0,
      dropped: emptyDropCounts(),
      ignoredFields: emptyIgnoredCounts(),
      socketErrors: {},
      callbackErrors: 0,
      lastReceivedWallMs: 0,
    };
    this.registry.on('up', (rec) => this.safeEmit('up', rec));
    // 'update' fires for every announcement: forward it only while someone listens, so the receive path
    // does not pay for an event nobody reads.
    const forwardUpdate = (rec: ServiceRecord): void => this.safeEmit('update', rec);
    const untyped = this as EventEmitter;
    untyped.on('newListener', (event: string | symbol) => {
      if (event === 'update' && this.listenerCount('update') === 0) this.registry.on('update', forwardUpdate);
    });
    untyped.on('removeListener', (event: string | symbol) => {
      if (event === 'update' && this.listenerCount('update') === 0)
        this.registry.off('update', forwardUpdate);
    });
    this.registry.on('down', (rec, reason) => this.safeEmit('down', rec, reason));
    this.registry.on('removed', (rec) => this.safeEmit('removed', rec));
    this.registry.on('conflict', (c) => this.safeEmit('conflict', c));
    this.startedMonoMs = this.clock.monotonicMs();
    this.baseline = this.currentTotals();
    this.receivers = this.newReceivers();
    if (options.meter) meterInstruments().listener(options.meter, this);
  }

  /**
   * A started listener: the equivalent of the original's `with VaultMultiListener() as l:`, which starts on
   * enter and stops on exit. `await using l = await VaultMultiListener.open({...})` stops it at the end of
   * the block; without `await using`, call stop() in a `finally`. Rejects like start().
   */
  static async open(options: ListenerOptions = {}): Promise<VaultMultiListener> {
    const listener = new VaultMultiListener(options);
    await listener.start();
    return listener;
  }

  get group(): string {
    return this.groupValue;
  }

  get port(): number {
    return this.portValue;
  }

  get interfaces(): 'all' | string[] {
    return this.interfacesValue;
  }

  /** Largest datagram accepted, bytes. */
  get bufferSize(): number {
    return this.decodeOptions.maxBytes;
  }

  /**
   * Applies new settings without losing what the listener knows: the registry (with every service's state and
   * sequence tracking), the counters and the guards' state stay. Timeouts, retention, limits, the type filter,
   * the guards, the datagram size, the extensions switch and the receive buffer change in place; a change of interfaces joins the new
   * ones before it leaves the old. A change of group or port is make-before-break: the new sockets are bound
   * and joined, then the old ones leave, drain what the kernel queued for them, and close. Rejects on invalid
   * settings (changing nothing), or when the new sockets cannot be bound: then it keeps listening on its old
   * group, port and interfaces, with the other settings applied.
   */
  async reconfigure(settings: ListenerSettings): Promise<void> {
    const endpoint = checkEndpoint(settings.group ?? this.groupValue, settings.port ?? this.portValue);
    const interfaces =
      'interfaces' in settings ? normaliseInterfaces(settings.interfaces) : this.interfacesValue;
    const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);
    this.registry.configure({
      serviceTimeoutMs: ms(settings.serviceTimeout),
      retentionMs: ms(settings.retention),
      maxServices: settings.maxServices,
      maxBytes: settings.maxRegistryBytes,
      typeFilter: settings.typeFilter,
    });
    if (settings.guards !== undefined) this.guards = [...settings.guards];
    const decode = {
      maxBytes: settings.bufferSize ?? this.decodeOptions.maxBytes,
      extensions: settings.extensions ?? this.decodeOptions.extensions,
    };
    if (
      decode.maxBytes !== this.decodeOptions.maxBytes ||
      decode.extensions !== this.decodeOptions.extensions
    ) {
      this.decodeOptions = decode;
      // Decodes made under the old rules must not let a now oversize or differently read datagram through.
      this.decoded.clear();
    }
    if (settings.receiveBufferSize !== undefined && settings.receiveBufferSize !== this.receiveBufferSize) {
      this.receiveBufferSize = settings.receiveBufferSize;
      for (const socket of this.receivers.boundSockets()) this.sizeBuffer(socket);
    }
    if (settings.receiveQueue !== undefined) this.queue.configure(settings.receiveQueue);
    const previousInterfaces = this.interfacesValue;
    this.interfacesValue = interfaces;
    if (endpoint.where === this.where) {
      this.reconcile();
      return;
    }
    const move = this.moveTo(endpoint);
    this.moveSettled = move.catch(() => undefined);
    try {
      await move;
    } catch (err) {
      this.interfacesValue = previousInterfaces;
      throw err;
    }
  }

  /** Binds, joins the group and starts receiving. Rejects with a VaultMulticastError when a bind fails. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.receivers = this.newReceivers();
    await this.receivers.start();
    this.running = true;
    this.startedMonoMs = this.clock.monotonicMs();
    this.baseline = this.currentTotals();
    this.receivers.reconcile();
    this.sweepTimer = setInterval(this.sweep, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    this.reconcileTimer = setInterval(
      () => this.tick('reconcile', () => this.reconcile()),
      this.reconcileIntervalMs,
    );
    this.reconcileTimer.unref();
  }

  /** Leaves the group and closes the sockets. `timeout` (seconds) bounds the wait for the sockets to close. */
  async stop(timeout = this.timeout): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    this.running = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.sweepTimer = undefined;
    this.reconcileTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closeAll().then(() => this.moveSettled),
      new Promise<void>((r) => {
        timer = setTimeout(r, Math.max(0, timeout * 1000));
      }),
    ]);
    if (timer) clearTimeout(timer);
    // What was read before the sockets closed is handled, not lost.
    this.queue.flush();
  }

  isRunning(): boolean {
    return this.running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Group membership per interface, as of the last reconcile pass. */
  memberships(): MembershipStatus[] {
    return this.receivers.memberships();
  }

  /** SO_RCVBUF as the kernel reports it (Linux doubles the request for its bookkeeping), once bound. */
  get receiveBufferBytes(): number | undefined {
    return this.bufferReport?.effective;
  }

  /** Datagrams read from the sockets ahead of the receive path (see ListenerOptions.receiveQueue). */
  get receiveQueue(): ReceiveQueueStats {
    return this.queue.stats();
  }

  /** Re-resolves interfaces now and restores lost memberships (the timer does this every reconcileInterval). */
  reconcile(): void {
    if (!this.running || this.moving) return;
    this.receivers.reconcile();
  }

  getMetrics(): ListenerMetrics {
    const now = this.currentTotals();
    const b = this.baseline;
    const uptime = Math.max(0, (this.clock.monotonicMs() - this.startedMonoMs) / 1000);
    const received = now.packetsReceived - b.packetsReceived;
    const dropped = emptyDropCounts();
    for (const key of Object.keys(dropped) as DropReason[]) dropped[key] = now.dropped[key] - b.dropped[key];
    const ignored = emptyIgnoredCounts();
    for (const key of IGNORED_FIELDS) ignored[key] = now.ignoredFields[key] - b.ignoredFields[key];
    const counts = this.registry.counts();
    return {
      packets_sent: 0,
      packets_received: received,
      bytes_sent: 0,
      bytes_received: now.bytesReceived - b.bytesReceived,
      errors: now.errors - b.errors,
      active_services: this.activeSinceReset(counts.up),
      uptime_seconds: uptime,
      packets_per_second: uptime > 0 ? received / uptime : 0,
      accepted: now.accepted - b.accepted,
      dropped,
      ignored_fields: ignored,
      callback_errors: now.callbackErrors - b.callbackErrors,
      services: { up: counts.up, stale: counts.stale, gone: counts.gone },
      discovered: now.discovered - b.discovered,
      expired: now.expired - b.expired,
      goodbyes: now.goodbyes - b.goodbyes,
      conflicts: now.conflicts - b.conflicts,
      refused: now.refused - b.refused,
      memberships: this.memberships(),
      receive_buffer_bytes: this.receiveBufferBytes,
      last_received_at: this.stats.lastReceivedWallMs > 0 ? this.stats.lastReceivedWallMs / 1000 : null,
    };
  }

  /**
   * Zeroes what getMetrics() reports and restarts its uptime, as the original's 2.1.0 does: `active_services`
   * too, which then counts the up services announced since the reset. Lifetime `stats`, the registry and the
   * exporters' series are untouched, so Prometheus counters stay monotonic.
   */
  resetMetrics(): void {
    this.baseline = this.currentTotals();
    this.startedMonoMs = this.clock.monotonicMs();
    this.resetMonoMs = this.startedMonoMs;
  }

  /** Up services, or after resetMetrics() only those announced since (a pass over the registry). */
  private activeSinceReset(up: number): number {
    const since = this.resetMonoMs;
    if (since === undefined) return up;
    let n = 0;
    for (const rec of this.registry.services()) if (rec.state === 'up' && rec.lastSeenMonoMs >= since) n++;
    return n;
  }

  /**
   * The first up service that matches `filter` (a substring of `type`, or a predicate): at once when one is
   * known, otherwise when one comes up. A copy of its record; `.data` is the announcement as received (what
   * the widget's `return_signal` handed over). Rejects with code ETIMEDOUT after `timeout` seconds, or with
   * the signal's reason when aborted.
   */
  find(filter?: ServiceFilter, options?: FindOptions): Promise<ServiceRecord> {
    return findService(this, filter, options);
  }

  /** Service events as an async iterator: `for await (const ev of listener.services({ signal }))`. */
  services(options?: ServicesOptions): AsyncGenerator<ServiceEvent, void, undefined> {
    return serviceEvents(this, options);
  }

  /** The widget's Refresh: forget every service and reset the metrics view. */
  refresh(): void {
    this.registry.clear();
    this.resetMetrics();
  }

  /**
   * Runs one datagram through the receive path exactly as if the socket had delivered it: guards, decoding,
   * registry, counters, events. For replaying captures, bridging another transport, and fuzzing.
   */
  ingest(bytes: Buffer, source: SourceInfo): void {
    this.onDatagram(bytes, source, this.clock.monotonicMs());
  }

  // The receive path: plain counter bumps, the guards, one decode, one registry update, one emit.
  // `nowMono` is when the socket delivered it (it may have waited in the receive queue).
  private readonly onDatagram = (msg: Buffer, rinfo: RemoteInfo, nowMono: number): void => {
    const stats = this.stats;
    stats.packetsReceived++;
    stats.bytesReceived += msg.length;
    stats.lastReceivedWallMs = Date.now();
    const guards = this.guards;
    for (let i = 0; i < guards.length; i++) {
      const guard = guards[i] as ReceiveGuard;
      const reason = guard.check(msg, rinfo, nowMono);
      if (reason !== undefined) {
        this.drop(reason, rinfo.address, guard.name);
        return;
      }
    }
    // Byte-identical datagrams decode alike: those of a sender repeating a static message are parsed once.
    const key = this.decoded.key(msg);
    let announcement = key === undefined ? undefined : this.decoded.get(key);
    let shared = announcement !== undefined;
    if (announcement === undefined) {
      const result = decodeAnnouncement(msg, this.decodeOptions);
      if (!result.ok) {
        this.drop(result.reason, rinfo.address, result.detail);
        // A JSON object that is not a service still reaches the application, as in the original.
        if (result.data !== undefined) this.deliver(result.data, undefined, rinfo.address);
        return;
      }
      announcement = result.announcement;
      // A `seq` changes at every announcement: such payloads never repeat.
      if (key !== undefined && announcement.seq === undefined) {
        this.decoded.set(key, announcement);
        shared = true;
      }
    }
    let outcome: ReturnType<ServiceRegistry['observe']>;
    try {
      outcome = this.registry.observe(announcement, rinfo.address, nowMono, msg.length);
    } catch {
      // A handler on the registry's own events threw after the registry took the announcement: count it
      // like any handler error; letting it unwind would end the process from a socket callback.
      stats.callbackErrors++;
      outcome = 'accepted';
    }
    if (outcome !== 'accepted') {
      this.drop(outcome, rinfo.address, announcement.type);
      return;
    }
    stats.accepted++;
    const ignored = announcement.ignored;
    for (let i = 0; i < ignored.length; i++) stats.ignoredFields[ignored[i] as IgnoredField]++;
    if (this.callback === undefined && this.listenerCount('message') === 0) return;
    // Each delivery gets objects of its own, as if freshly decoded: an application may keep or change them.
    const delivered = shared ? { ...announcement, data: { ...announcement.data } } : announcement;
    this.deliver(delivered.data, delivered, rinfo.address);
  };

  /** Hands a JSON object to the callback and the `message` handlers; their exceptions are counted. */
  private deliver(
    data: Record<string, unknown>,
    announcement: Announcement | undefined,
    source: string,
  ): void {
    if (this.callback !== undefined) {
      try {
        this.callback(data, announcement, source);
      } catch {
        this.stats.callbackErrors++;
      }
    }
    if (this.listenerCount('message') > 0) {
      try {
        this.emit('message', data, announcement, source);
      } catch {
        this.stats.callbackErrors++;
      }
    }
  }

  private drop(reason: DropReason, source: string, detail: string): void {
    this.stats.dropped[reason]++;
    if (this.listenerCount('drop') > 0) this.safeEmit('drop', reason, source, detail);
  }

  /** Emits without letting a throwing handler unwind into socket or timer code. */
  private safeEmit<K extends keyof ListenerEvents>(event: K, ...args: ListenerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: ListenerEvents[K]) => boolean)(event, ...args);
    } catch {
      this.stats.callbackErrors++;
    }
  }

  /**
   * The registry's sweep in slices of SWEEP_SLICE_MS with a turn between them: services learned together
   * expire together, and re-filing 100,000 of them held the loop ~22 ms once every serviceTimeout.
   */
  private readonly sweep = (): void => {
    if (this.sweeping) return;
    this.tick('sweep', () => {
      if (!this.registry.sweep(this.clock.monotonicMs(), performance.now() + SWEEP_SLICE_MS)) {
        this.sweeping = true;
        setImmediate(() => {
          this.sweeping = false;
          if (this.running) this.sweep();
        });
      }
    });
  };

  /**
   * Runs a timer's work so that nothing it throws (EMFILE from networkInterfaces() when descriptors run out,
   * a throwing handler) ends the process: counted as a socket error and reported; the next tick retries.
   */
  private tick(operation: 'sweep' | 'reconcile', work: () => void): void {
    try {
      work();
    } catch (err) {
      this.problem({
        operation,
        code: errorCode(err),
        message: errorMessage(err),
        interface: undefined,
        retryInMs: operation === 'sweep' ? SWEEP_INTERVAL_MS : this.reconcileIntervalMs,
      });
    }
  }

  private problem(p: SocketProblem): void {
    this.stats.socketErrors[p.code] = (this.stats.socketErrors[p.code] ?? 0) + 1;
    this.safeEmit('socketError', p);
  }

  private currentTotals(): Baseline {
    const s = this.stats;
    const r = this.registry.stats;
    let errors = s.callbackErrors;
    for (const reason of ERROR_REASONS) errors += s.dropped[reason];
    for (const n of Object.values(s.socketErrors)) errors += n;
    return {
      packetsReceived: s.packetsReceived,
      bytesReceived: s.bytesReceived,
      accepted: s.accepted,
      dropped: { ...s.dropped },
      ignoredFields: { ...s.ignoredFields },
      errors,
      callbackErrors: s.callbackErrors,
      discovered: r.discovered,
      expired: r.expired,
      goodbyes: r.goodbyes,
      conflicts: r.conflicts,
      refused: r.refused,
    };
  }

  private sizeBuffer(socket: Socket): void {
    this.bufferReport = sizeReceiveBuffer(socket, this.receiveBufferSize);
    if (this.bufferReport.warning !== undefined) {
      const warning = this.bufferReport.warning;
      queueMicrotask(() => this.safeEmit('warning', warning));
    }
  }

  /** Moves to another group or port, make-before-break (see reconfigure()). */
  private async moveTo(endpoint: Endpoint): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const before = { group: this.groupValue, port: this.portValue, where: this.where, family: this.family };
    const setEndpoint = (e: typeof before) => {
      this.groupValue = e.group;
      this.portValue = e.port;
      this.where = e.where;
      this.family = e.family;
    };
    setEndpoint(endpoint);
    if (!this.running) return;
    const old = this.receivers;
    // Until they close, the old sockets are stop()'s to close as well: a stop during the move waits for them.
    this.draining = old;
    // The new set is the listener's from here, so a stop() meanwhile closes what it has bound so far.
    this.receivers = this.newReceivers();
    this.moving = true;
    try {
      await this.receivers.start();
    } catch (err) {
      // Keep listening where we were: the new sockets are gone, the old ones were never touched.
      this.receivers = old;
      setEndpoint(before);
      this.draining = undefined;
      if (!this.running) await old.close();
      throw err;
    } finally {
      this.moving = false;
    }
    if (!this.running) {
      // Stopped meanwhile: stop() closed both sets (a set closed under its start binds nothing more).
      await old.close();
      return;
    }
    this.receivers.reconcile();
    // Both are heard for a moment, so senders moving over at the same time are not missed in between.
    await new Promise((r) => setTimeout(r, OVERLAP_MS));
    if (!this.running) return;
    old.retireAll();
    await new Promise((r) => setTimeout(r, OVERLAP_MS));
    await old.close();
    if (this.draining === old) this.draining = undefined;
  }

  private async closeAll(): Promise<void> {
    const draining = this.draining;
    this.draining = undefined;
    await Promise.all([this.receivers.close(), draining?.close()]);
  }

  /** Sockets for the group and port as they are now. */
  private newReceivers(): Receivers {
    const endpoint = { group: this.groupValue, port: this.portValue, family: this.family, where: this.where };
    return new Receivers(endpoint, {
      interfaces: () => this.interfacesValue,
      reuseAddr: this.reuseAddr,
      reconcileIntervalMs: this.reconcileIntervalMs,
      onDatagram: this.queue.offer,
      bound: (socket) => this.sizeBuffer(socket),
      problem: (p) => this.problem(p),
      warning: (message) => this.safeEmit('warning', message),
      moving: () => this.moving,
    });
  }
}
