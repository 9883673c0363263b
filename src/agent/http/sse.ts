/**
 * GET /api/v1/events: Server-Sent Events for the page. `snapshot` on connect and after each reload, `service`
 * for registry changes, `metrics` every second, and a comment line as heartbeat so proxies keep the connection.
 *
 * A scrape-rate flood must not turn into a flood of events: `update` events are throttled per service (at most
 * one per UPDATE_THROTTLE_MS, the latest state wins). Memory is bounded whatever clients do:
 * - every frame is serialised once into Buffers that all clients share (a snapshot of 10,000 services is
 *   megabytes; a copy per client made 64 idle clients cost 2 GB);
 * - a client's unsent bytes, snapshot included, may not pass the size of the current snapshot plus
 *   MAX_QUEUED_BYTES: past it the client is cut off (the page reconnects and gets a snapshot). A snapshot never
 *   raises a client's allowance, so a client that sleeps through reloads is cut like any other;
 * - the unsent bytes of all clients together may not pass MAX_TOTAL_BYTES: a connection that would push the sum
 *   over it gets 503 with Retry-After;
 * - MAX_CLIENTS streams at most, MAX_CLIENTS_PER_ADDRESS of them from one client address.
 * With no client connected, no event is built at all.
 *
 * A snapshot is built in time slices that give the event loop back (100,000 services are ~40 MB of JSON and
 * 100-200 ms of serialising). Clients that wait for it join one build; every frame broadcast while it runs is
 * kept and sent to them after it, so a service that changed after it was serialised is put right in order.
 */
import type { Request, Response } from 'express';
import type { ServiceRecord } from '../../discovery/types.js';
import type { EventStreamMap } from '../api-types.js';
import type { ServiceEventName } from '../runtime/wiring.js';
import { eachServiceView, listenerView, publisherView, serviceView, statusView } from '../views.js';
import type { HttpHost } from './host.js';
import { slicedJsonChunks } from './sliced-json.js';

export const UPDATE_THROTTLE_MS = 500;
/** Unsent bytes one client may have queued beyond one snapshot. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** Unsent bytes of all clients together (counted per client, though shared frames cost their memory once). */
export const MAX_TOTAL_BYTES = 256 * 1024 * 1024;
export const MAX_CLIENTS = 64;
export const MAX_CLIENTS_PER_ADDRESS = 8;
/** A snapshot is rebuilt at most this often while nothing changes, so a connect storm serialises once. */
const SNAPSHOT_REUSE_MS = 1000;
const METRICS_INTERVAL_MS = 1000;
const HEARTBEAT_MS = 15_000;
const RETRY_MS = 2000;

/** A snapshot frame in pieces of ~64 KiB: one 40 MB Buffer.concat would hold the loop by itself. */
interface Snapshot {
  readonly pieces: readonly Buffer[];
  readonly bytes: number;
}

/** A snapshot being built, the clients waiting for it, and what was broadcast since it started. */
interface Build {
  readonly waiters: Set<Response>;
  readonly log: Buffer[];
  logBytes: number;
  /** More was broadcast meanwhile than a client may have queued: the waiters are cut off, as slow clients. */
  overflow: boolean;
  /** No service changed since the build started: the result may be shared with clients that come next. */
  fresh: boolean;
}

interface Client {
  readonly address: string;
  /** Set while the client waits for a snapshot: broadcasts reach it through the build's log. */
  build: Build | undefined;
}

interface PendingUpdate {
  lastSentMs: number;
  timer: NodeJS.Timeout | undefined;
  listener: string;
  rec: ServiceRecord | undefined;
}

export interface EventHubOptions {
  statusExtras: () => Parameters<typeof statusView>[1];
  /** Called when a client is cut off for not reading. */
  onSlowClient?: () => void;
  /** Called when a stream is refused or cut, with the reason (for the http_rejected_total metric). */
  onReject?: (reason: 'sse_clients' | 'sse_address' | 'sse_total_bytes' | 'sse_slow_client') => void;
}

export class EventHub {
  private readonly clients = new Map<Response, Client>();
  private snapshotCache: { snapshot: Snapshot; builtMs: number } | undefined;
  /** Size of the last snapshot built: what a client may have queued besides MAX_QUEUED_BYTES of events. */
  private snapshotBytes = 0;
  /** Builds under way; only the newest one that started after the last reload takes new waiters. */
  private readonly builds = new Set<Build>();
  private joinable: Build | undefined;
  private readonly updates = new Map<string, PendingUpdate>();
  private metricsTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly onService = (listener: string, event: ServiceEventName, rec: ServiceRecord) => {
    this.snapshotCache = undefined;
    for (const build of this.builds) build.fresh = false;
    this.service(listener, event, rec);
  };
  private readonly onReloaded = () => {
    this.snapshotCache = undefined;
    // A build that started before the reload shows the old listeners: the clients wait for a new one, and
    // the old one's result is not kept for later clients.
    this.joinable = undefined;
    for (const build of this.builds) build.fresh = false;
    if (this.clients.size === 0) return;
    this.sendSnapshot([...this.clients.keys()]);
  };

  constructor(
    private readonly agent: HttpHost,
    private readonly opts: EventHubOptions,
  ) {
    agent.events.on('service', this.onService);
    agent.events.on('reloaded', this.onReloaded);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  handle(req: Request, res: Response): void {
    if (req.method === 'HEAD') {
      res.status(200).setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.end();
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    if (this.clients.size >= MAX_CLIENTS) {
      this.refuse(res, 'sse_clients', 'too many event stream clients');
      return;
    }
    let fromAddress = 0;
    for (const c of this.clients.values()) if (c.address === address) fromAddress++;
    if (fromAddress >= MAX_CLIENTS_PER_ADDRESS) {
      this.refuse(res, 'sse_address', 'too many event streams from this address');
      return;
    }
    // The snapshot this client will get is not built yet: the last one's size stands in for it.
    if (this.queuedBytes() + this.snapshotBytes > MAX_TOTAL_BYTES) {
      this.refuse(res, 'sse_total_bytes', 'event stream clients are not reading; try again later');
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    this.clients.set(res, { address, build: undefined });
    res.once('close', () => this.remove(res));
    this.write(res, Buffer.from(`retry: ${RETRY_MS}\n\n`));
    this.startTimers();
    this.sendSnapshot([res]);
  }

  private refuse(
    res: Response,
    reason: Parameters<NonNullable<EventHubOptions['onReject']>>[0],
    error: string,
  ) {
    this.opts.onReject?.(reason);
    res.status(503).setHeader('Retry-After', '5').json({ error });
  }

  /** Unsent bytes of all clients. */
  private queuedBytes(): number {
    let sum = 0;
    for (const res of this.clients.keys()) sum += res.writableLength;
    return sum;
  }

  /**
   * Sends a snapshot to `targets`: the last one if nothing changed since (a connect storm serialises once),
   * else the one being built, else a new build.
   */
  private sendSnapshot(targets: readonly Response[]): void {
    const cached = this.snapshotCache;
    if (cached !== undefined && performance.now() - cached.builtMs < SNAPSHOT_REUSE_MS) {
      for (const res of targets) this.writeSnapshot(res, cached.snapshot);
      return;
    }
    const build = this.joinable ?? this.startBuild();
    for (const res of targets) {
      const client = this.clients.get(res);
      if (!client) continue;
      client.build?.waiters.delete(res);
      client.build = build;
      build.waiters.add(res);
    }
  }

  private startBuild(): Build {
    const build: Build = { waiters: new Set(), log: [], logBytes: 0, overflow: false, fresh: true };
    this.builds.add(build);
    this.joinable = build;
    const startedMs = performance.now();
    this.buildSnapshot().then(
      (snapshot) => {
        this.builds.delete(build);
        if (this.joinable === build) this.joinable = undefined;
        this.snapshotBytes = snapshot.bytes;
        if (build.fresh) this.snapshotCache = { snapshot, builtMs: startedMs };
        for (const res of build.waiters) {
          const client = this.clients.get(res);
          if (client?.build !== build) continue;
          client.build = undefined;
          if (build.overflow) this.cut(res);
          else {
            this.writeSnapshot(res, snapshot);
            for (const bytes of build.log) this.write(res, bytes);
          }
        }
      },
      () => {
        // Building views failed (a bug, not input): the waiters reconnect and try again.
        this.builds.delete(build);
        if (this.joinable === build) this.joinable = undefined;
        for (const res of build.waiters) if (this.clients.get(res)?.build === build) this.cut(res);
      },
    );
    return build;
  }

  private async buildSnapshot(): Promise<Snapshot> {
    const status = statusView(this.agent, this.opts.statusExtras());
    const pieces: Buffer[] = [];
    let bytes = 0;
    const prefix = `event: snapshot\ndata: {"status":${JSON.stringify(status)},"services":[`;
    for await (const piece of slicedJsonChunks(prefix, eachServiceView(this.agent, {}), ']}\n\n')) {
      pieces.push(piece);
      bytes += piece.length;
    }
    return { pieces, bytes };
  }

  private writeSnapshot(res: Response, snapshot: Snapshot): void {
    for (const piece of snapshot.pieces) this.write(res, piece);
  }

  private remove(res: Response): void {
    this.clients.get(res)?.build?.waiters.delete(res);
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopTimers();
  }

  private startTimers(): void {
    if (!this.metricsTimer) {
      this.metricsTimer = setInterval(() => this.broadcast('metrics', this.metrics()), METRICS_INTERVAL_MS);
      this.metricsTimer.unref();
    }
    if (!this.heartbeatTimer) {
      this.heartbeatTimer = setInterval(() => this.broadcastRaw(': heartbeat\n\n'), HEARTBEAT_MS);
      this.heartbeatTimer.unref();
    }
  }

  private stopTimers(): void {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.metricsTimer = undefined;
    this.heartbeatTimer = undefined;
    for (const u of this.updates.values()) if (u.timer) clearTimeout(u.timer);
    this.updates.clear();
  }

  private metrics(): EventStreamMap['metrics'] {
    return {
      at: Date.now() / 1000,
      listeners: [...this.agent.listeners()].map(listenerView),
      publishers: [...this.agent.publishers()].map(publisherView),
    };
  }

  private service(listener: string, event: ServiceEventName, rec: ServiceRecord): void {
    if (this.clients.size === 0) return;
    const key = `${listener}\0${rec.key}`;
    if (event !== 'update') {
      const pending = this.updates.get(key);
      if (pending?.timer) clearTimeout(pending.timer);
      this.updates.delete(key);
      this.sendService(listener, event, rec);
      return;
    }
    const now = performance.now();
    const u = this.updates.get(key);
    if (u === undefined || now - u.lastSentMs >= UPDATE_THROTTLE_MS) {
      if (u?.timer) clearTimeout(u.timer);
      const entry: PendingUpdate = { lastSentMs: now, timer: undefined, listener, rec: undefined };
      // The entry only matters for one throttle window; it removes itself afterwards.
      entry.timer = setTimeout(() => this.flushUpdate(key), UPDATE_THROTTLE_MS);
      entry.timer.unref();
      this.updates.set(key, entry);
      this.sendService(listener, 'update', rec);
      return;
    }
    u.rec = rec;
  }

  private flushUpdate(key: string): void {
    const u = this.updates.get(key);
    if (!u) return;
    if (u.rec === undefined) {
      this.updates.delete(key);
      return;
    }
    const rec = u.rec;
    u.rec = undefined;
    u.lastSentMs = performance.now();
    u.timer = setTimeout(() => this.flushUpdate(key), UPDATE_THROTTLE_MS);
    u.timer.unref();
    this.sendService(u.listener, 'update', rec);
  }

  private sendService(listener: string, event: ServiceEventName, rec: ServiceRecord): void {
    this.broadcast('service', { event, service: serviceView(listener, rec, performance.now()) });
  }

  private broadcast<K extends keyof EventStreamMap>(event: K, data: EventStreamMap[K]): void {
    if (this.clients.size === 0) return;
    this.broadcastRaw(frame(event, data));
  }

  private broadcastRaw(text: string): void {
    // One Buffer for every client: a string would be encoded again for each.
    const bytes = Buffer.from(text);
    for (const build of this.builds) {
      if (build.overflow || build.waiters.size === 0) continue;
      build.log.push(bytes);
      build.logBytes += bytes.length;
      if (build.logBytes > MAX_QUEUED_BYTES) {
        build.overflow = true;
        build.log.length = 0;
      }
    }
    for (const [res, client] of [...this.clients]) if (client.build === undefined) this.write(res, bytes);
  }

  private write(res: Response, bytes: Buffer): void {
    if (!this.clients.has(res)) return;
    const limit = MAX_QUEUED_BYTES + this.snapshotBytes;
    if (res.writableLength + bytes.length > limit) {
      this.cut(res);
      return;
    }
    res.write(bytes);
  }

  /** A client that does not read: cut it off instead of buffering for it. */
  private cut(res: Response): void {
    this.remove(res);
    res.destroy();
    this.opts.onReject?.('sse_slow_client');
    this.opts.onSlowClient?.();
  }

  close(): void {
    this.agent.events.off('service', this.onService);
    this.agent.events.off('reloaded', this.onReloaded);
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
    this.stopTimers();
  }
}

/** One SSE frame. JSON never contains a raw newline, so a single `data:` line is enough. */
export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
