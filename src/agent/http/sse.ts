/**
 * GET /api/v1/events: Server-Sent Events for the page. `snapshot` on connect and after each reload, `service`
 * for registry changes, `metrics` every second, and a comment line as heartbeat so proxies keep the connection.
 *
 * A scrape-rate flood must not turn into a flood of events: `update` events are throttled per service (at most
 * one per UPDATE_THROTTLE_MS, the latest state wins), and a client whose unsent data grows past
 * MAX_QUEUED_BYTES beyond the last snapshot it was sent is disconnected rather than buffered without bound
 * (the page reconnects and gets a snapshot). The snapshot itself is allowed whatever its size, so a registry
 * of 10,000 services does not lock the page out. With no client connected, no event is built at all.
 */
import type { Request, Response } from 'express';
import type { ServiceRecord } from '../../types.js';
import type { Agent } from '../agent.js';
import type { EventStreamMap } from '../api-types.js';
import type { ServiceEventName } from '../runtime/wiring.js';
import { listenerView, publisherView, serviceView, serviceViews, statusView } from '../views.js';

export const UPDATE_THROTTLE_MS = 500;
export const MAX_QUEUED_BYTES = 1024 * 1024;
export const MAX_CLIENTS = 64;
const METRICS_INTERVAL_MS = 1000;
const HEARTBEAT_MS = 15_000;
const RETRY_MS = 2000;

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
}

export class EventHub {
  /** Each client with the queue size at which it counts as too slow. */
  private readonly clients = new Map<Response, number>();
  private readonly updates = new Map<string, PendingUpdate>();
  private metricsTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly onService = (listener: string, event: ServiceEventName, rec: ServiceRecord) =>
    this.service(listener, event, rec);
  private readonly onReloaded = () => {
    if (this.clients.size === 0) return;
    const text = frame('snapshot', this.snapshot());
    for (const res of [...this.clients.keys()]) this.write(res, text, true);
  };

  constructor(
    private readonly agent: Agent,
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
    if (this.clients.size >= MAX_CLIENTS) {
      res.status(503).setHeader('Retry-After', '5').json({ error: 'too many event stream clients' });
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    this.clients.set(res, MAX_QUEUED_BYTES);
    res.once('close', () => this.remove(res));
    this.write(res, `retry: ${RETRY_MS}\n\n`);
    this.write(res, frame('snapshot', this.snapshot()), true);
    this.startTimers();
  }

  private remove(res: Response): void {
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

  private snapshot(): EventStreamMap['snapshot'] {
    return {
      status: statusView(this.agent, this.opts.statusExtras()),
      services: serviceViews(this.agent, {}, performance.now()),
    };
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
    for (const res of [...this.clients.keys()]) this.write(res, text);
  }

  /** `snapshot`: always queued, and the client's allowance starts again on top of it. */
  private write(res: Response, text: string, snapshot = false): void {
    const limit = this.clients.get(res);
    if (limit === undefined) return;
    if (!snapshot && res.writableLength > limit) {
      // A client that does not read: cut it off instead of buffering for it.
      this.remove(res);
      res.destroy();
      this.opts.onSlowClient?.();
      return;
    }
    res.write(text);
    if (snapshot) this.clients.set(res, res.writableLength + MAX_QUEUED_BYTES);
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
