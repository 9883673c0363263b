/**
 * Hand-built stand-ins for the listener, publisher and agent state, shaped by the contracts in src/discovery/types.ts and
 * src/agent/state.ts. They let the exporters be tested on exact, hostile and large inputs without sockets; the
 * integration tests run the same exporters on the real listener and publisher.
 */

import type { ListenerConfig, PublisherConfig } from '../../src/agent/config/types.js';
import type { AgentState, ListenerEntry, PublisherEntry, ReloadState } from '../../src/agent/state.js';
import { emptyDropCounts } from '../../src/discovery/drop-reasons.js';
import { emptyIgnoredCounts } from '../../src/discovery/ignored-fields.js';
import type {
  ListenerStats,
  MembershipStatus,
  PublisherStats,
  RegistryStats,
  ServiceRecord,
  ServiceState,
} from '../../src/discovery/types.js';

/** A map that counts the entries it forgets, as ServiceRegistry.removals does. */
class CountingMap<K, V> extends Map<K, V> {
  removals = 0;
  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.removals++;
    return had;
  }
}

export class FakeRegistry {
  readonly records = new CountingMap<string, ServiceRecord>();
  stats: RegistryStats = { discovered: 0, expired: 0, goodbyes: 0, conflicts: 0, refused: 0 };
  boundStats = { evicted: 0, cut: 0 };
  bytes = 0;

  services(): IterableIterator<ServiceRecord> {
    return this.records.values();
  }
  get size(): number {
    return this.records.size;
  }
  get removals(): number {
    return this.records.removals;
  }
  counts(): { up: number; stale: number; gone: number } {
    const c = { up: 0, stale: 0, gone: 0 };
    for (const r of this.records.values()) c[r.state]++;
    return c;
  }
  add(partial: Partial<ServiceRecord> & { type: string; addr: string }): ServiceRecord {
    const rec: ServiceRecord = {
      key: `${partial.type}\u0000${partial.addr}`,
      name: partial.type,
      host: partial.addr,
      port: undefined,
      version: undefined,
      metricsPort: undefined,
      state: 'up',
      source: '127.0.0.1',
      firstSeenWallMs: 1_700_000_000_000,
      lastSeenWallMs: 1_700_000_001_500,
      lastSeenMonoMs: 0,
      expiresAtMonoMs: 30_000,
      forgetAtMonoMs: undefined,
      ttlMs: 30_000,
      packets: 1,
      lost: 0,
      lastSeq: undefined,
      ageSeconds: undefined,
      data: Object.create(null),
      ...partial,
    };
    this.records.set(rec.key, rec);
    return rec;
  }
  setState(key: string, state: ServiceState): void {
    const rec = this.records.get(key);
    if (rec) rec.state = state;
  }
}

export class FakeListener {
  group = '224.1.1.1';
  port = 5004;
  stats: ListenerStats = {
    packetsReceived: 0,
    bytesReceived: 0,
    accepted: 0,
    dropped: emptyDropCounts(),
    ignoredFields: emptyIgnoredCounts(),
    socketErrors: {},
    callbackErrors: 0,
    lastReceivedWallMs: 0,
  };
  registry = new FakeRegistry();
  receiveBufferBytes: number | undefined = 425_984;
  receiveQueue = { held: 0, peak: 0, total: 0 };
  membershipList: MembershipStatus[] = [
    { interface: '127.0.0.1', address: '127.0.0.1', joined: true, error: undefined },
  ];
  memberships(): MembershipStatus[] {
    return this.membershipList;
  }
}

export class FakePublisher {
  group = '224.1.1.1';
  port = 5004;
  stats: PublisherStats = { packetsSent: 0, bytesSent: 0, sendErrors: {}, lastSentWallMs: 0 };
}

export function listenerConfig(name: string, group = '224.1.1.1', port = 5004): ListenerConfig {
  return {
    name,
    group,
    port,
    interfaces: ['127.0.0.1'],
    maxDatagramBytes: 1400,
    receiveBufferBytes: 4 << 20,
    receiveQueueDatagrams: 32_768,
    serviceTimeoutMs: 30_000,
    retentionMs: 600_000,
    maxServices: 10_000,
    typeFilter: '',
    extensions: true,
  };
}

export function publisherConfig(name: string, group = '224.1.1.1', port = 5004): PublisherConfig {
  return {
    name,
    group,
    port,
    interfaces: ['127.0.0.1'],
    ttl: 2,
    intervalMs: 2000,
    message: { type: 'VaultLibrary', name: 'demo', addr: '127.0.0.1:8080' },
    loopback: true,
    announceTtlMs: undefined,
    sign: false,
  };
}

/** Mutable agent state: tests add and remove listeners as a reload would. */
export class FakeState implements AgentState {
  readonly version = '0.1.0-test';
  readonly startedWallMs = 1_700_000_000_000;
  readonly listenerEntries = new Map<string, ListenerEntry>();
  readonly publisherEntries = new Map<string, PublisherEntry>();
  reload: ReloadState = {
    lastSuccess: true,
    lastSuccessWallMs: 1_700_000_000_000,
    successes: 1,
    failures: 0,
  };
  constructor(public maxServiceSeries = 10_000) {}

  addListener(name: string, group?: string, port?: number): FakeListener {
    const listener = new FakeListener();
    this.listenerEntries.set(name, {
      name,
      config: listenerConfig(name, group, port),
      listener: listener as unknown as ListenerEntry['listener'],
    });
    return listener;
  }
  addPublisher(name: string, group?: string, port?: number): FakePublisher {
    const publisher = new FakePublisher();
    this.publisherEntries.set(name, {
      name,
      config: publisherConfig(name, group, port),
      publisher: publisher as unknown as PublisherEntry['publisher'],
    });
    return publisher;
  }
  listeners(): Iterable<ListenerEntry> {
    return this.listenerEntries.values();
  }
  publishers(): Iterable<PublisherEntry> {
    return this.publisherEntries.values();
  }
}
