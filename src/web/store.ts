/**
 * What the page knows: the agent's status, every service of every listener, and a short history of packet
 * rates for the sparklines. Fed only by the event stream; a snapshot replaces everything, so a reconnect
 * can never leave services behind that the agent has forgotten meanwhile.
 */
import type {
  EventStreamMap,
  ListenerView,
  MetricsView,
  PublisherView,
  ServiceStateView,
  ServiceView,
  StatusView,
} from '../agent/api-types.js';

/** One service as the page holds it, with the client's monotonic time at which its view arrived. */
export interface ServiceEntry {
  /** Unique across listeners: listener name, NUL, the registry's key. */
  readonly id: string;
  view: ServiceView;
  /** performance.now() / 1000 when `view` arrived: `expiresIn` counts down from here. */
  receivedAt: number;
  /** Lower-cased text the free-text search looks through. */
  haystack: string;
  /** Lower-cased text columns, computed once per view so that sorting 10 000 rows stays cheap. */
  sortText: SortText;
}

export interface SortText {
  type: string;
  name: string;
  addr: string;
  version: string;
  listener: string;
}

/** Samples kept per listener and publisher for the sparkline: one a second, one minute. */
export const HISTORY_LENGTH = 60;

/** Seconds the sparkline's rate is averaged over, so that a publisher announcing every 2 s draws a line, not a saw. */
export const RATE_WINDOW_SECONDS = 4;

export interface RateHistory {
  /** Packets per second over the last RATE_WINDOW_SECONDS, one value per metrics event, oldest first. */
  rates: number[];
  /** Recent (time, packets counted since the page started watching) pairs, within the window. */
  samples: { at: number; total: number }[];
  /** The counter as last reported, to notice resets. */
  lastRaw: number | undefined;
  /** Packets counted before the counter was last reset. */
  base: number;
}

export function serviceId(view: ServiceView): string {
  return `${view.listener}\u0000${view.key}`;
}

function haystackOf(view: ServiceView): string {
  let data = '';
  try {
    data = JSON.stringify(view.data);
  } catch {
    // A view that cannot be serialised is still searchable by its named fields.
  }
  return [view.type, view.name, view.addr, view.version ?? '', view.source, view.state, view.listener, data]
    .join('\n')
    .toLowerCase();
}

function packetsOf(metrics: MetricsView, kind: 'listener' | 'publisher'): number {
  return kind === 'listener' ? metrics.packets_received : metrics.packets_sent;
}

export class Store {
  status: StatusView | undefined;
  listeners: ListenerView[] = [];
  publishers: PublisherView[] = [];
  readonly services = new Map<string, ServiceEntry>();
  readonly history = new Map<string, RateHistory>();
  /** Server wall clock minus client wall clock, seconds (from the metrics events' `at`). */
  skew = 0;
  /** Bumped whenever the set of services or one of them changes, so that views know to re-render. */
  revision = 0;
  /** Ids put or removed since takeChanges(); undefined when everything may have changed (snapshot, clear). */
  private changed: Set<string> | undefined;
  /** Services per listener and state, kept as services come and go: the summary needs no pass over 100,000. */
  private readonly perListener = new Map<string, Record<ServiceStateView, number>>();

  constructor(private readonly monoNow: () => number = () => performance.now() / 1000) {}

  /** The agent's wall clock now, Unix seconds, as well as the page can tell. */
  serverNow(): number {
    return Date.now() / 1000 + this.skew;
  }

  clientMono(): number {
    return this.monoNow();
  }

  applySnapshot(snapshot: EventStreamMap['snapshot']): void {
    this.status = snapshot.status;
    this.listeners = snapshot.status.listeners;
    this.publishers = snapshot.status.publishers;
    this.services.clear();
    this.perListener.clear();
    this.changed = undefined;
    for (const view of snapshot.services) this.put(view);
    // Counters may have been reset or the agent restarted: rates resume from the next sample.
    for (const h of this.history.values()) {
      h.samples = [];
      h.lastRaw = undefined;
      h.base = 0;
    }
    this.revision += 1;
  }

  applyService(event: EventStreamMap['service']): void {
    if (event.event === 'removed') {
      const id = serviceId(event.service);
      this.remove(id);
      this.changed?.add(id);
    } else this.put(event.service);
    this.revision += 1;
  }

  applyMetrics(event: EventStreamMap['metrics']): void {
    this.skew = event.at - Date.now() / 1000;
    this.listeners = event.listeners;
    this.publishers = event.publishers;
    if (this.status) {
      this.status.listeners = event.listeners;
      this.status.publishers = event.publishers;
    }
    for (const l of event.listeners) this.sample(`listener:${l.name}`, l.metrics, 'listener', event.at);
    for (const p of event.publishers) this.sample(`publisher:${p.name}`, p.metrics, 'publisher', event.at);
  }

  /** Forgets the services of one listener at once, as the widget's Refresh cleared its list. */
  clearListener(listener: string): void {
    for (const [id, entry] of this.services) if (entry.view.listener === listener) this.remove(id);
    this.changed = undefined;
    this.revision += 1;
  }

  /** How many services are up, stale and gone, of one listener or ('') of all. */
  stateCounts(listener: string): Record<ServiceStateView, number> {
    const sum = { up: 0, stale: 0, gone: 0 };
    for (const [name, c] of this.perListener) {
      if (listener !== '' && name !== listener) continue;
      sum.up += c.up;
      sum.stale += c.stale;
      sum.gone += c.gone;
    }
    return sum;
  }

  /** What changed since the last call (see `changed`), for views that update incrementally. */
  takeChanges(): ReadonlySet<string> | undefined {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }

  rates(kind: 'listener' | 'publisher', name: string): number[] {
    return this.history.get(`${kind}:${name}`)?.rates ?? [];
  }

  private count(view: ServiceView, by: number): void {
    let c = this.perListener.get(view.listener);
    if (!c) {
      c = { up: 0, stale: 0, gone: 0 };
      this.perListener.set(view.listener, c);
    }
    c[view.state] += by;
  }

  private remove(id: string): void {
    const old = this.services.get(id);
    if (!old) return;
    this.count(old.view, -1);
    this.services.delete(id);
  }

  private put(view: ServiceView): void {
    const id = serviceId(view);
    const old = this.services.get(id);
    if (old) this.count(old.view, -1);
    this.count(view, 1);
    const sortText: SortText = {
      type: view.type.toLowerCase(),
      name: view.name.toLowerCase(),
      addr: view.addr.toLowerCase(),
      version: (view.version ?? '').toLowerCase(),
      listener: view.listener.toLowerCase(),
    };
    this.services.set(id, { id, view, receivedAt: this.monoNow(), haystack: haystackOf(view), sortText });
    this.changed?.add(id);
  }

  private sample(id: string, metrics: MetricsView, kind: 'listener' | 'publisher', at: number): void {
    let h = this.history.get(id);
    if (!h) {
      h = { rates: [], samples: [], lastRaw: undefined, base: 0 };
      this.history.set(id, h);
    }
    const raw = packetsOf(metrics, kind);
    // A counter that went down was reset: what was counted before carries on as the base.
    if (h.lastRaw !== undefined && raw < h.lastRaw) h.base += h.lastRaw;
    h.lastRaw = raw;
    const total = h.base + raw;
    const last = h.samples.at(-1);
    if (last && at <= last.at) return;
    h.samples.push({ at, total });
    while (h.samples.length > 2 && at - h.samples[1]!.at >= RATE_WINDOW_SECONDS) h.samples.shift();
    const first = h.samples[0]!;
    if (h.samples.length < 2) return;
    h.rates.push((total - first.total) / (at - first.at));
    if (h.rates.length > HISTORY_LENGTH) h.rates.splice(0, h.rates.length - HISTORY_LENGTH);
  }
}
