/**
 * Library state turned into the JSON shapes of api-types.ts, at request time. Nothing here keeps a copy: every
 * view reads the listener, publisher and registry objects as they are now.
 */
import type { ServiceRegistry } from '../discovery/registry.js';
import type { ServiceRecord } from '../discovery/types.js';
import type {
  ListenerView,
  MembershipView,
  MetricsView,
  PublisherView,
  ServiceStateView,
  ServiceView,
  StatusView,
} from './api-types.js';
import type { AgentState, ListenerEntry, PublisherEntry } from './state.js';

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function serviceView(listener: string, rec: ServiceRecord, nowMonoMs: number): ServiceView {
  const until = rec.state === 'up' ? rec.expiresAtMonoMs : (rec.forgetAtMonoMs ?? rec.expiresAtMonoMs);
  return {
    listener,
    key: rec.key,
    type: rec.type,
    name: rec.name,
    addr: rec.addr,
    version: rec.version ?? null,
    state: rec.state,
    source: rec.source,
    firstSeen: rec.firstSeenWallMs / 1000,
    lastSeen: rec.lastSeenWallMs / 1000,
    expiresIn: round3(Math.max(0, until - nowMonoMs) / 1000),
    ttl: rec.ttlMs / 1000,
    age: rec.ageSeconds ?? null,
    lost: rec.lost,
    packets: rec.packets,
    metricsPort: rec.metricsPort ?? null,
    data: rec.data,
    cut: rec.cut === true,
  };
}

type MetricsLike = Partial<MetricsView> & Record<string, unknown>;

function metricsView(m: MetricsLike, dropped: Record<string, number> | undefined): MetricsView {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const droppedView: Record<string, number> = {};
  const source = (m.dropped as Record<string, number> | undefined) ?? dropped ?? {};
  for (const [reason, n] of Object.entries(source)) if (n > 0) droppedView[reason] = n;
  return {
    packets_sent: num(m.packets_sent),
    packets_received: num(m.packets_received),
    bytes_sent: num(m.bytes_sent),
    bytes_received: num(m.bytes_received),
    errors: num(m.errors),
    active_services: num(m.active_services),
    uptime_seconds: round3(num(m.uptime_seconds)),
    packets_per_second: round3(num(m.packets_per_second)),
    dropped: droppedView,
  };
}

function membershipView(m: {
  interface: string;
  address?: string;
  joined: boolean;
  error?: string;
}): MembershipView {
  return { interface: m.interface, address: m.address ?? null, joined: m.joined, error: m.error ?? null };
}

/** What listener and publisher views share: identity from the configuration. */
function endpointBase(entry: ListenerEntry | PublisherEntry) {
  const c = entry.config;
  return { name: entry.name, group: c.group, port: c.port, interfaces: c.interfaces ?? null };
}

export function listenerView(entry: ListenerEntry): ListenerView {
  const l = entry.listener;
  return {
    ...endpointBase(entry),
    running: l.isRunning(),
    memberships: l.memberships().map(membershipView),
    receiveBufferBytes: l.receiveBufferBytes ?? null,
    metrics: metricsView(l.getMetrics() as unknown as MetricsLike, l.stats.dropped),
  };
}

export function publisherView(entry: PublisherEntry): PublisherView {
  const p = entry.publisher;
  return {
    ...endpointBase(entry),
    running: p.isRunning(),
    intervalSeconds: entry.config.intervalMs / 1000,
    metrics: metricsView(p.getMetrics() as unknown as MetricsLike, undefined),
  };
}

export interface StatusExtras {
  ready: boolean;
  admin: StatusView['admin'];
  reloadEnabled: boolean;
  embedOrigins: readonly string[];
}

export function statusView(state: AgentState, extras: StatusExtras): StatusView {
  return {
    version: state.version,
    startedAt: state.startedWallMs / 1000,
    ready: extras.ready,
    admin: extras.admin,
    reload: {
      enabled: extras.reloadEnabled,
      lastSuccess: state.reload.lastSuccess,
      lastSuccessAt: state.reload.lastSuccessWallMs / 1000,
    },
    listeners: [...state.listeners()].map(listenerView),
    publishers: [...state.publishers()].map(publisherView),
    embedOrigins: [...extras.embedOrigins],
  };
}

export interface ServiceFilter {
  /** Substring of the service type (as the original widget's filter). */
  type?: string;
  state?: ServiceStateView;
  listener?: string;
}

/**
 * The records a filter lets through, with their listener's name, in registry order. `overTime`: the caller
 * takes them over several turns of the event loop (see onceEach).
 */
function* matchingRecords(
  state: AgentState,
  filter: ServiceFilter,
  overTime = false,
): Generator<[string, ServiceRecord]> {
  for (const entry of state.listeners()) {
    if (filter.listener !== undefined && entry.name !== filter.listener) continue;
    const registry = entry.listener.registry;
    for (const rec of overTime ? onceEach(registry) : registry.services()) {
      if (filter.state !== undefined && rec.state !== filter.state) continue;
      if (filter.type && !rec.type.includes(filter.type)) continue;
      yield [entry.name, rec];
    }
  }
}

/**
 * A registry's records for a walk that spans turns of the event loop, each key once. services() brings a
 * service forgotten and learned again during the walk round a second time (a list with one key twice); from
 * the first removal on, the keys already given are remembered and skipped. Until then only references are
 * kept, no set of 100,000 keys.
 */
function* onceEach(registry: ServiceRegistry): Generator<ServiceRecord> {
  const removals = registry.removals;
  let given: ServiceRecord[] | undefined = [];
  let seen: Set<string> | undefined;
  for (const rec of registry.services()) {
    if (given && registry.removals !== removals) {
      seen = new Set(given.map((r) => r.key));
      given = undefined;
    }
    if (seen) {
      if (seen.has(rec.key)) continue;
      seen.add(rec.key);
    } else given?.push(rec);
    yield rec;
  }
}

/**
 * The matching services one view at a time, each read at the moment it is built: a caller that serialises
 * 100,000 of them in slices (giving the event loop back in between) sends views as fresh as a one-piece list.
 * The registry may change between two items; no service comes twice (onceEach).
 */
export function* eachServiceView(state: AgentState, filter: ServiceFilter): Generator<ServiceView> {
  for (const [listener, rec] of matchingRecords(state, filter, true))
    yield serviceView(listener, rec, performance.now());
}

/** A window of the matching services, in registry order: `offset` matches skipped, at most `limit` kept. */
export interface PageRequest {
  readonly offset: number;
  readonly limit: number;
}

/**
 * The matching services, or one page of them with the total: at 100,000 services the whole list is ~40 MB of
 * JSON and ~100 ms of building it, so a client that pages only pays for what it shows. Views are built for
 * the page alone; the rest is only counted.
 */
export function servicePage(
  state: AgentState,
  filter: ServiceFilter,
  nowMonoMs: number,
  page: PageRequest = { offset: 0, limit: Number.POSITIVE_INFINITY },
): { services: ServiceView[]; total: number } {
  const services: ServiceView[] = [];
  let total = 0;
  for (const [listener, rec] of matchingRecords(state, filter)) {
    if (total >= page.offset && services.length < page.limit)
      services.push(serviceView(listener, rec, nowMonoMs));
    total++;
  }
  return { services, total };
}
