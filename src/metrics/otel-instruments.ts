/**
 * OpenTelemetry instruments for a listener or publisher, on a Meter the application passes in. Only types come
 * from @opentelemetry/api (the application's own copy does the work), so the library keeps loading nothing but
 * Node's standard library. Names and units are those of the agent (docs/metrics.md): the Prometheus name
 * without `_total` for counters.
 *
 * Attributes are `group` and `port`, fixed for a listener's or publisher's life. Per-service instruments are
 * deliberately absent: the SDK keeps exporting every attribute set an observable callback ever reported
 * (opentelemetry-js#4096), so per-service series would outlive their services. The agent exports those from a
 * MetricProducer instead (src/metrics/otel-producer.ts).
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { DROP_REASONS } from '../discovery/drop-reasons.js';
import { IGNORED_FIELDS } from '../discovery/ignored-fields.js';
import { provideInstruments } from '../discovery/instruments.js';
import type { VaultMultiListener } from '../discovery/listener.js';
import type { VaultMultiPublisher } from '../discovery/publisher.js';
import { METRICS, type MetricDef } from './names.js';
import { otelName, otelUnit } from './otel-names.js';

/** Stops the instruments' callbacks (the SDK may still export their last values; see above). */
export type Uninstrument = () => void;

function observable(meter: Meter, def: MetricDef): Observable {
  const options = { description: def.help, unit: otelUnit(def) };
  return def.type === 'counter'
    ? meter.createObservableCounter(otelName(def), options)
    : meter.createObservableGauge(otelName(def), options);
}

function register(
  meter: Meter,
  defs: readonly MetricDef[],
  observe: (result: BatchObservableResult, instruments: Observable[]) => void,
): Uninstrument {
  const instruments = defs.map((def) => observable(meter, def));
  const callback = (result: BatchObservableResult) => observe(result, instruments);
  meter.addBatchObservableCallback(callback, instruments);
  return () => meter.removeBatchObservableCallback(callback, instruments);
}

const LISTENER_DEFS = [
  METRICS.receivedPackets,
  METRICS.receivedBytes,
  METRICS.acceptedPackets,
  METRICS.droppedPackets,
  METRICS.ignoredFields,
  METRICS.receiveErrors,
  METRICS.receiveBuffer,
  METRICS.lastReceived,
  METRICS.groupMembership,
  METRICS.activeServices,
  METRICS.services,
  METRICS.servicesDiscovered,
  METRICS.servicesExpired,
  METRICS.serviceConflicts,
] as const;

/** Registers observable instruments that read the listener's state at collection time. */
export function instrumentListener(meter: Meter, listener: VaultMultiListener): Uninstrument {
  const base: Attributes = { group: listener.group, port: String(listener.port) };
  return register(meter, LISTENER_DEFS, (result, instruments) => {
    const [
      received,
      receivedBytes,
      accepted,
      dropped,
      ignored,
      errors,
      buffer,
      lastReceived,
      membership,
      active,
      services,
      discovered,
      expired,
      conflicts,
    ] = instruments;
    const observe = (instrument: Observable | undefined, value: number, extra?: Attributes) => {
      if (instrument) result.observe(instrument, value, extra ? { ...base, ...extra } : base);
    };
    const stats = listener.stats;
    const registry = listener.registry;
    observe(received, stats.packetsReceived);
    observe(receivedBytes, stats.bytesReceived);
    observe(accepted, stats.accepted);
    for (const reason of DROP_REASONS) observe(dropped, stats.dropped[reason] ?? 0, { reason });
    for (const field of IGNORED_FIELDS) observe(ignored, stats.ignoredFields[field] ?? 0, { field });
    observe(errors, stats.callbackErrors, { reason: 'callback' });
    for (const [code, count] of Object.entries(stats.socketErrors)) {
      if (code !== 'callback') observe(errors, count, { reason: code });
    }
    const rcvbuf = listener.receiveBufferBytes;
    if (rcvbuf !== undefined) observe(buffer, rcvbuf);
    observe(lastReceived, stats.lastReceivedWallMs / 1000);
    for (const m of listener.memberships()) observe(membership, m.joined ? 1 : 0, { interface: m.interface });
    const counts = registry.counts();
    observe(active, counts.up);
    observe(services, counts.up, { state: 'up' });
    observe(services, counts.stale, { state: 'stale' });
    observe(services, counts.gone, { state: 'gone' });
    observe(discovered, registry.stats.discovered);
    observe(expired, registry.stats.expired, { reason: 'expired' });
    observe(expired, registry.stats.goodbyes, { reason: 'goodbye' });
    observe(conflicts, registry.stats.conflicts);
  });
}

const PUBLISHER_DEFS = [
  METRICS.sentPackets,
  METRICS.sentBytes,
  METRICS.sendErrors,
  METRICS.lastSent,
] as const;

/** Registers observable instruments that read the publisher's state at collection time. */
export function instrumentPublisher(meter: Meter, publisher: VaultMultiPublisher): Uninstrument {
  const base: Attributes = { group: publisher.group, port: String(publisher.port) };
  return register(meter, PUBLISHER_DEFS, (result, [sent, sentBytes, errors, lastSent]) => {
    const stats = publisher.stats;
    if (sent) result.observe(sent, stats.packetsSent, base);
    if (sentBytes) result.observe(sentBytes, stats.bytesSent, base);
    if (errors) {
      for (const [code, count] of Object.entries(stats.sendErrors))
        result.observe(errors, count, { ...base, reason: code });
    }
    if (lastSent) result.observe(lastSent, stats.lastSentWallMs / 1000, base);
  });
}

// The library's `meter` option (src/discovery/instruments.ts) uses these; loading this module provides them.
provideInstruments({ listener: instrumentListener, publisher: instrumentPublisher });
