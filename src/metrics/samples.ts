/**
 * The per-listener, per-publisher and agent-wide families, read from the library objects at collection time.
 * Both exporters (Prometheus and OTLP) take their samples from here, so the two cannot disagree, and every
 * label set is built fresh on each call: a listener removed by a reload is simply not iterated any more, and
 * its series vanish from both exports instead of lingering with their last values.
 */
import process from 'node:process';
import { DROP_REASONS } from '../discovery/drop-reasons.js';
import { IGNORED_FIELDS } from '../discovery/ignored-fields.js';
import { wellFormed } from './escape.js';
import { kernelDropsOf } from './kernel-drops.js';
import type { MetricKey } from './names.js';
import { sdTargetsWithheld } from './sd-targets.js';
import type { AgentState, ListenerEntry, PublisherEntry } from './state.js';
import { TimeSlicer } from './time-slicer.js';
import { REVISION } from './version.js';

export type Labels = Record<string, string>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/**
 * Reads one family. Most read a few counters; one that walks every service (sd_targets_withheld) is async
 * and slices its walk with `slicer`, so that a scrape at 100,000 services never holds the loop for it.
 */
export type SampleReader = (state: AgentState, slicer?: TimeSlicer) => Sample[] | Promise<Sample[]>;

/** The families written from the registry by the per-service serializer rather than read here. */
export const SERVICE_FAMILIES = [
  'serviceUp',
  'serviceLastSeen',
  'serviceInfo',
  'serviceAge',
  'serviceLost',
  'serviceSeriesDropped',
] as const satisfies readonly MetricKey[];

export type ServiceFamilyKey = (typeof SERVICE_FAMILIES)[number];
export type SampledFamilyKey = Exclude<MetricKey, ServiceFamilyKey>;

export function listenerLabels(entry: ListenerEntry): Labels {
  return { listener: wellFormed(entry.name), group: entry.config.group, port: String(entry.config.port) };
}

export function publisherLabels(entry: PublisherEntry): Labels {
  return { publisher: wellFormed(entry.name), group: entry.config.group, port: String(entry.config.port) };
}

function perListener(
  read: (entry: ListenerEntry, labels: Labels) => Sample[] | number | undefined,
): SampleReader {
  return (state) => {
    const out: Sample[] = [];
    for (const entry of state.listeners()) {
      const labels = listenerLabels(entry);
      const got = read(entry, labels);
      if (typeof got === 'number') out.push({ labels, value: got });
      else if (got) out.push(...got);
    }
    return out;
  };
}

function perPublisher(read: (entry: PublisherEntry) => number): SampleReader {
  return (state) => {
    const out: Sample[] = [];
    for (const entry of state.publishers()) out.push({ labels: publisherLabels(entry), value: read(entry) });
    return out;
  };
}

/** One sample per key of a by-reason count table (error codes), `skip` left out. */
function byReason(labels: Labels, counts: Readonly<Record<string, number>>, skip?: string): Sample[] {
  const out: Sample[] = [];
  for (const reason of Object.keys(counts)) {
    if (reason === skip) continue;
    out.push({ labels: { ...labels, reason: wellFormed(reason) }, value: counts[reason] ?? 0 });
  }
  return out;
}

export const SAMPLE_READERS: Record<SampledFamilyKey, SampleReader> = {
  receivedPackets: perListener((e) => e.listener.stats.packetsReceived),
  receivedBytes: perListener((e) => e.listener.stats.bytesReceived),
  acceptedPackets: perListener((e) => e.listener.stats.accepted),
  // Every reason, zeros included, so rate() and increase() work from the first drop on.
  droppedPackets: perListener((e, labels) => {
    const dropped = e.listener.stats.dropped;
    return DROP_REASONS.map((reason) => ({ labels: { ...labels, reason }, value: dropped[reason] ?? 0 }));
  }),
  // Every field, zeros included, like the drop reasons.
  ignoredFields: perListener((e, labels) => {
    const ignored = e.listener.stats.ignoredFields;
    return IGNORED_FIELDS.map((field) => ({ labels: { ...labels, field }, value: ignored[field] ?? 0 }));
  }),
  receiveErrors: perListener((e, labels) => {
    const stats = e.listener.stats;
    return [
      { labels: { ...labels, reason: 'callback' }, value: stats.callbackErrors },
      // A socket error code named "callback" cannot exist; skipping it keeps the label set unique anyway.
      ...byReason(labels, stats.socketErrors, 'callback'),
    ];
  }),
  // Read from /proc by refreshKernelDrops() before each collection.
  kernelDrops: perListener((e) => kernelDropsOf(e.listener)),
  receiveQueued: perListener((e) => e.listener.receiveQueue.total),
  receiveBuffer: perListener((e) => e.listener.receiveBufferBytes),
  lastReceived: perListener((e) => e.listener.stats.lastReceivedWallMs / 1000),
  groupMembership: perListener((e, labels) => {
    const seen = new Set<string>();
    const out: Sample[] = [];
    for (const m of e.listener.memberships()) {
      const iface = wellFormed(m.interface);
      // Two entries for one interface would be a duplicate series; the first one wins.
      if (seen.has(iface)) continue;
      seen.add(iface);
      out.push({ labels: { ...labels, interface: iface }, value: m.joined ? 1 : 0 });
    }
    return out;
  }),
  activeServices: perListener((e) => e.listener.registry.counts().up),
  services: perListener((e, labels) => {
    const counts = e.listener.registry.counts();
    return [
      { labels: { ...labels, state: 'up' }, value: counts.up },
      { labels: { ...labels, state: 'stale' }, value: counts.stale },
      { labels: { ...labels, state: 'gone' }, value: counts.gone },
    ];
  }),
  servicesDiscovered: perListener((e) => e.listener.registry.stats.discovered),
  servicesExpired: perListener((e, labels) => {
    const stats = e.listener.registry.stats;
    return [
      { labels: { ...labels, reason: 'expired' }, value: stats.expired },
      { labels: { ...labels, reason: 'goodbye' }, value: stats.goodbyes },
    ];
  }),
  serviceConflicts: perListener((e) => e.listener.registry.stats.conflicts),
  servicesEvicted: perListener((e) => e.listener.registry.boundStats.evicted),
  announcementsCut: perListener((e) => e.listener.registry.boundStats.cut),
  registryBytes: perListener((e) => e.listener.registry.bytes),
  sentPackets: perPublisher((e) => e.publisher.stats.packetsSent),
  sentBytes: perPublisher((e) => e.publisher.stats.bytesSent),
  sendErrors: (state) => {
    const out: Sample[] = [];
    for (const entry of state.publishers()) {
      out.push(...byReason(publisherLabels(entry), entry.publisher.stats.sendErrors));
    }
    return out;
  },
  lastSent: perPublisher((e) => e.publisher.stats.lastSentWallMs / 1000),
  buildInfo: (state) => [
    {
      labels: {
        version: wellFormed(state.version),
        revision: wellFormed(REVISION),
        nodejs_version: process.version,
      },
      value: 1,
    },
  ],
  startTime: (state) => [{ labels: {}, value: state.startedWallMs / 1000 }],
  configReloadSuccessful: (state) => [{ labels: {}, value: state.reload.lastSuccess ? 1 : 0 }],
  configReloadTimestamp: (state) => [{ labels: {}, value: state.reload.lastSuccessWallMs / 1000 }],
  httpRejected: (state) => byReason({}, state.httpRejected ?? {}),
  sdTargetsWithheld: async (state, slicer) => [
    { labels: {}, value: await sdTargetsWithheld(state, slicer ?? new TimeSlicer()) },
  ],
  configReloads: (state) => [
    { labels: { result: 'success' }, value: state.reload.successes },
    { labels: { result: 'failure' }, value: state.reload.failures },
  ],
};
