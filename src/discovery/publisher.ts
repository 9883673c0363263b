import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Meter } from '@opentelemetry/api';
import { type Clock, systemClock } from './clock.js';
import { encodeAnnouncement } from './codec.js';
import {
  DEFAULT_BUFFER_SIZE,
  DEFAULT_JITTER,
  DEFAULT_MESSAGE,
  DEFAULT_MULTICAST_GROUP,
  DEFAULT_PORT,
  DEFAULT_RECONCILE_INTERVAL_MS,
  DEFAULT_TIMEOUT,
  DEFAULT_TTL,
} from './constants.js';
import { errorCode, errorMessage, VaultMulticastError } from './errors.js';
import { meterInstruments } from './instruments.js';
import './net/dispose.js';
import { checkEndpoint } from './net/endpoint.js';
import { type InterfaceSpec, normaliseInterfaces } from './net/interfaces.js';
import { jitteredDelay } from './net/jitter.js';
import { Senders } from './net/senders.js';
import { describeSocketError } from './net/socket.js';
import type {
  AnnouncementSigner,
  MembershipStatus,
  MetricsSnapshot,
  PublisherStats,
  SocketProblem,
} from './types.js';

export type PublisherMessage = string | Record<string, unknown>;

export interface PublisherOptions {
  group?: string;
  port?: number;
  /** Multicast TTL (IPv4) or hop limit (IPv6). */
  ttl?: number;
  /** Seconds between announcements: the original's name for it. `interval` wins when both are given. */
  timeout?: number;
  interval?: number;
  message?: PublisherMessage;
  /** Interface names or addresses, a comma-separated list, 'all', or undefined for the kernel's choice. */
  interfaces?: InterfaceSpec;
  /** Whether this host's own listeners receive the announcements. */
  loopback?: boolean;
  /** Fraction of the interval each announcement is moved by at random (0 for a fixed period). */
  jitter?: number;
  /** Seconds each announcement stays valid at listeners (the `ttl` extension); omitted when undefined. */
  announceTtl?: number;
  /** Send `goodbye: true` on stop() (only for object messages: a string message is never changed). */
  goodbye?: boolean;
  signer?: AnnouncementSigner;
  /** Largest datagram this publisher sends, bytes (listeners of the original read 1400). */
  maxBytes?: number;
  /** Milliseconds between passes that re-resolve interfaces and re-apply the sending interface. */
  reconcileInterval?: number;
  clock?: Clock;
  meter?: Meter;
  /** Source of randomness for the jitter (tests pass a fixed one). */
  random?: () => number;
}

export interface PublisherEvents {
  /** One datagram handed to the kernel: its size and the interface it left on ('default': kernel's choice). */
  sent: [bytes: number, iface: string];
  /** One announcement round done on every interface: its `seq` and how many of its sends succeeded. */
  announced: [seq: number, sent: number];
  socketError: [problem: SocketProblem];
  warning: [message: string];
}

export interface PublisherMetrics extends MetricsSnapshot {
  send_errors: Record<string, number>;
  /** Sending interfaces and whether the multicast interface is applied on each. */
  interfaces: MembershipStatus[];
  /** Unix seconds of the last successful send, or null before the first. */
  last_sent_at: number | null;
  seq: number;
}

// A `seq` and a `timestamp` as long as they will ever get, so the size check at construction holds for every
// later datagram.
const LONGEST_SEQ = 1e15;
const LONGEST_TIMESTAMP = 9_999_999_999.999;

/**
 * Announces one message on a multicast group: the TypeScript form of the original's VaultMultiPublisher. The
 * first announcement leaves at once, then one per interval with jitter, on every configured interface; send
 * failures are counted and reported and the socket or its interface repaired, and stop() says goodbye.
 */
export class VaultMultiPublisher extends EventEmitter<PublisherEvents> {
  readonly group: string;
  readonly port: number;
  readonly ttl: number;
  readonly intervalSeconds: number;
  readonly interfaces: 'all' | string[];
  readonly loopback: boolean;
  readonly jitter: number;
  readonly maxBytes: number;
  readonly stats: PublisherStats;

  private readonly where: string;
  private readonly announceTtl: number | undefined;
  private readonly goodbyeOnStop: boolean;
  private signer: AnnouncementSigner | undefined;
  private readonly reconcileIntervalMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** One sending socket per interface, with its multicast interface. */
  private readonly senders: Senders;
  private currentMessage: PublisherMessage = DEFAULT_MESSAGE;
  private isObjectMessage = false;
  private seq = 0;
  private running = false;
  private starting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private startedMonoMs: number;
  private baseline = { packets: 0, bytes: 0, errors: 0 };
  private socketProblems = 0;

  constructor(options: PublisherOptions = {}) {
    super();
    this.group = options.group ?? DEFAULT_MULTICAST_GROUP;
    this.port = options.port ?? DEFAULT_PORT;
    const endpoint = checkEndpoint(this.group, this.port);
    this.where = endpoint.where;
    this.ttl = options.ttl ?? DEFAULT_TTL;
    if (!Number.isInteger(this.ttl) || this.ttl < 0 || this.ttl > 255) {
      throw new VaultMulticastError('EINVAL', `ttl ${this.ttl} is not an integer between 0 and 255`);
    }
    this.intervalSeconds = options.interval ?? options.timeout ?? DEFAULT_TIMEOUT;
    if (!(this.intervalSeconds > 0) || !Number.isFinite(this.intervalSeconds)) {
      throw new VaultMulticastError(
        'EINVAL',
        `interval ${this.intervalSeconds} is not a positive number of seconds`,
      );
    }
    this.jitter = options.jitter ?? DEFAULT_JITTER;
    if (!(this.jitter >= 0 && this.jitter < 1)) {
      throw new VaultMulticastError('EINVAL', `jitter ${this.jitter} is not a fraction in [0, 1)`);
    }
    this.interfaces = normaliseInterfaces(options.interfaces);
    this.loopback = options.loopback ?? true;
    this.announceTtl = options.announceTtl;
    this.goodbyeOnStop = options.goodbye ?? true;
    this.signer = options.signer;
    this.maxBytes = options.maxBytes ?? DEFAULT_BUFFER_SIZE;
    this.reconcileIntervalMs = options.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL_MS;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.stats = { packetsSent: 0, bytesSent: 0, sendErrors: {}, lastSentWallMs: 0 };
    this.updateMessage(options.message ?? DEFAULT_MESSAGE);
    this.startedMonoMs = this.clock.monotonicMs();
    this.senders = new Senders(endpoint, {
      interfaces: this.interfaces,
      ttl: this.ttl,
      loopback: this.loopback,
      reconcileIntervalMs: this.reconcileIntervalMs,
      problem: (operation, err, iface, retryInMs) => this.problem(operation, err, iface, retryInMs),
    });
    if (options.meter) meterInstruments().publisher(options.meter, this);
  }

  get message(): PublisherMessage {
    return this.currentMessage;
  }

  set message(message: PublisherMessage) {
    this.updateMessage(message);
  }

  /**
   * Replaces the message sent from the next announcement on. Throws VaultMulticastError('EMSGSIZE') when it
   * would not fit in `maxBytes`, and 'EINVAL' when it cannot be serialised; the old message stays in place.
   */
  updateMessage(message: PublisherMessage): void {
    // Only an object message gets extensions; a string is the application's bytes, sent as they are.
    const isObject = typeof message === 'object' && message !== null && !Array.isArray(message);
    let size: number;
    try {
      size = this.encode(message, isObject, {
        seq: LONGEST_SEQ,
        timestamp: LONGEST_TIMESTAMP,
        goodbye: isObject,
      }).length;
    } catch (err) {
      throw new VaultMulticastError('EINVAL', `message cannot be encoded: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (size > this.maxBytes) {
      throw new VaultMulticastError(
        'EMSGSIZE',
        `message is ${size} bytes on the wire (with extensions${this.signer ? ' and signature' : ''}), over the ` +
          `${this.maxBytes}-byte limit: listeners read at most ${this.maxBytes} bytes per datagram`,
      );
    }
    this.currentMessage = typeof message === 'object' ? { ...message } : message;
    this.isObjectMessage = isObject;
  }

  /**
   * A started publisher: the equivalent of the original's `with VaultMultiPublisher(...) as p:`, which starts on
   * enter and stops on exit. `await using p = await VaultMultiPublisher.open({...})` stops it at the end of the
   * block; without `await using`, call stop() in a `finally`. Throws like the constructor, rejects like start().
   */
  static async open(options: PublisherOptions = {}): Promise<VaultMultiPublisher> {
    const publisher = new VaultMultiPublisher(options);
    await publisher.start();
    return publisher;
  }

  /**
   * Signs from the next announcement on with `signer` (undefined: unsigned), keeping the sockets and the
   * sequence numbers, so a key rotation needs no restart (and no goodbye). Throws like updateMessage() when
   * the message would no longer fit; the old signer then stays.
   */
  updateSigner(signer: AnnouncementSigner | undefined): void {
    const previous = this.signer;
    this.signer = signer;
    try {
      this.updateMessage(this.currentMessage);
    } catch (err) {
      this.signer = previous;
      throw err;
    }
  }

  /** Opens the sockets and sends the first announcement at once, then one per interval. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    await this.senders.start();
    this.running = true;
    this.startedMonoMs = this.clock.monotonicMs();
    this.reconcileTimer = setInterval(() => {
      // Out of descriptors, networkInterfaces() throws EMFILE: counted and reported, retried at the next tick.
      try {
        this.reconcile();
      } catch (err) {
        this.socketProblems++;
        this.safeEmit('socketError', {
          operation: 'reconcile',
          code: errorCode(err),
          message: errorMessage(err),
          interface: undefined,
          retryInMs: this.reconcileIntervalMs,
        });
      }
    }, this.reconcileIntervalMs);
    this.reconcileTimer.unref();
    void this.announce();
    this.scheduleNext();
  }

  private scheduleNext(): void {
    // From now, not from the missed deadline: after an event-loop stall one announcement goes out, not a burst.
    const delay = jitteredDelay(this.intervalSeconds * 1000, this.jitter, this.random);
    this.timer = setTimeout(() => {
      if (!this.running) return;
      void this.announce();
      this.scheduleNext();
    }, delay);
  }

  /** Sends the message once now on every interface; resolves when every send has completed or failed. */
  announce(): Promise<void> {
    const bytes = this.tryEncode(false);
    if (bytes === undefined) return Promise.resolve();
    const seq = this.seq;
    this.seq += 1;
    const before = this.stats.packetsSent;
    return this.sendAll(bytes).then(() => {
      if (this.listenerCount('announced') > 0)
        this.safeEmit('announced', seq, this.stats.packetsSent - before);
    });
  }

  /** Sends a goodbye (for object messages), then closes. `timeout` (seconds) bounds the wait. */
  async stop(timeout = this.intervalSeconds): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const wasRunning = this.running;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.timer = undefined;
    this.reconcileTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, Math.max(0, timeout * 1000));
    });
    if (wasRunning && this.goodbyeOnStop && this.isObjectMessage) {
      const bytes = this.tryEncode(true);
      this.seq += 1;
      if (bytes !== undefined) await Promise.race([this.sendAll(bytes), deadline]);
    }
    await Promise.race([this.closeAll(), deadline]);
    if (timer) clearTimeout(timer);
  }

  isRunning(): boolean {
    return this.running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Sending interfaces and whether each has its multicast interface applied. */
  interfaceStatus(): MembershipStatus[] {
    return this.senders.statusList();
  }

  getMetrics(): PublisherMetrics {
    const uptime = Math.max(0, (this.clock.monotonicMs() - this.startedMonoMs) / 1000);
    const sent = this.stats.packetsSent - this.baseline.packets;
    return {
      packets_sent: sent,
      packets_received: 0,
      bytes_sent: this.stats.bytesSent - this.baseline.bytes,
      bytes_received: 0,
      errors: this.totalErrors() - this.baseline.errors,
      active_services: 0,
      uptime_seconds: uptime,
      packets_per_second: uptime > 0 ? sent / uptime : 0,
      send_errors: { ...this.stats.sendErrors },
      interfaces: this.interfaceStatus(),
      last_sent_at: this.stats.lastSentWallMs > 0 ? this.stats.lastSentWallMs / 1000 : null,
      seq: this.seq,
    };
  }

  /** Zeroes what getMetrics() reports and restarts its uptime; lifetime `stats` keep growing. */
  resetMetrics(): void {
    this.baseline = {
      packets: this.stats.packetsSent,
      bytes: this.stats.bytesSent,
      errors: this.totalErrors(),
    };
    this.startedMonoMs = this.clock.monotonicMs();
  }

  /** Re-resolves interfaces now and re-applies each socket's multicast interface (the timer does it too). */
  reconcile(): void {
    if (!this.running) return;
    this.senders.reconcile();
  }

  private totalErrors(): number {
    let n = this.socketProblems;
    for (const v of Object.values(this.stats.sendErrors)) n += v;
    return n;
  }

  /**
   * The datagram for the current message, or undefined when it cannot be built (a signer that throws):
   * counted and reported, never thrown into a timer.
   */
  private tryEncode(goodbye: boolean): Buffer | undefined {
    try {
      return this.encode(this.currentMessage, this.isObjectMessage, {
        seq: this.seq,
        timestamp: this.clock.wallMs() / 1000,
        ...(goodbye ? { goodbye: true } : {}),
      });
    } catch (err) {
      this.stats.sendErrors.EENCODE = (this.stats.sendErrors.EENCODE ?? 0) + 1;
      this.safeEmit('socketError', {
        operation: 'send',
        code: 'EENCODE',
        message: `cannot build the announcement: ${errorMessage(err)}`,
        interface: undefined,
        retryInMs: undefined,
      });
      return undefined;
    }
  }

  /**
   * Extensions go only into object messages, and only under keys the application did not set itself; a string
   * message is sent byte for byte, like the original, even when it holds a JSON object.
   */
  private encode(
    message: PublisherMessage,
    isObject: boolean,
    ext: { seq: number; timestamp: number; goodbye?: boolean },
  ): Buffer {
    // `timestamp` is refreshed on every send (the sender's clock), so listeners can report announcement age.
    const bytes = isObject
      ? encodeAnnouncement(message, {
          seq: ext.seq,
          timestamp: ext.timestamp,
          ...(this.announceTtl !== undefined ? { ttl: this.announceTtl } : {}),
          ...(ext.goodbye ? { goodbye: true } : {}),
        })
      : encodeAnnouncement(message);
    return this.signer ? this.signer.sign(bytes) : bytes;
  }

  private sendAll(bytes: Buffer): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const { key, socket, destination, status } of this.senders.open()) {
      if (!status?.joined) {
        // Its interface is missing or has no address: sending anyway would leave by the kernel's default
        // route, maybe a network nobody chose. Count the miss; the problem was reported when it began.
        const code = status?.error ?? 'ENODEV';
        this.stats.sendErrors[code] = (this.stats.sendErrors[code] ?? 0) + 1;
        continue;
      }
      sends.push(
        new Promise<void>((resolve) => {
          try {
            socket.send(bytes, this.port, destination, (err) => {
              if (err) this.sendFailed(key, socket, err);
              else this.sendDone(bytes.length, key);
              resolve();
            });
          } catch (err) {
            this.sendFailed(key, socket, err);
            resolve();
          }
        }),
      );
    }
    return Promise.all(sends).then(() => undefined);
  }

  private sendDone(bytes: number, iface: string): void {
    this.stats.packetsSent++;
    this.stats.bytesSent += bytes;
    this.stats.lastSentWallMs = this.clock.wallMs();
    if (this.listenerCount('sent') > 0) this.safeEmit('sent', bytes, iface);
  }

  private sendFailed(key: string, socket: Socket, err: unknown): void {
    const code = errorCode(err);
    this.stats.sendErrors[code] = (this.stats.sendErrors[code] ?? 0) + 1;
    this.safeEmit('socketError', {
      operation: 'send',
      code,
      message: describeSocketError(`send to ${this.where} on '${key}'`, err),
      interface: key === 'default' ? undefined : key,
      retryInMs: undefined,
    });
    if (this.running) this.senders.sendFailed(key, socket, err);
  }

  private problem(
    operation: SocketProblem['operation'],
    err: unknown,
    iface: string,
    retryInMs: number | undefined,
  ): void {
    this.socketProblems++;
    this.safeEmit('socketError', {
      operation,
      code: errorCode(err),
      message: describeSocketError(`${operation} on '${iface}'`, err),
      interface: iface === 'default' ? undefined : iface,
      retryInMs,
    });
  }

  private safeEmit<K extends keyof PublisherEvents>(event: K, ...args: PublisherEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: PublisherEvents[K]) => boolean)(event, ...args);
    } catch {
      // A throwing handler must not unwind into socket callbacks or timers.
    }
  }

  private async closeAll(): Promise<void> {
    await this.senders.close();
  }
}
