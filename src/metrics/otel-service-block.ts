/**
 * The per-service families as the producer hands them to the exporter: not data points (five per service, so
 * 500,000 objects at 100,000 services, all alive until the export ends) but the services each listener had at
 * the collection and the collection's times. Each request's encoder reads the values from the records as it
 * writes them (otlp-batches.ts, otlp-protobuf.ts).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { ServiceRecord } from '../discovery/types.js';
import { wellFormed } from './escape.js';
import type { Labels } from './samples.js';

export interface ListenerServices {
  /** listener, group, port: the attributes every service of the listener starts with. */
  readonly base: Labels;
  readonly records: readonly ServiceRecord[];
}

export interface ServiceBlock {
  readonly listeners: readonly ListenerServices[];
  /** The agent's start: where the cumulative sums count from. */
  readonly start: HrTime;
  /** The collection's time: every point's time, and a gauge's start time too. */
  readonly time: HrTime;
}

/**
 * A service's own attributes, after its listener's, in the order the SDK's serializer writes them. Every
 * encoder builds them here, so the protobuf and JSON paths cannot disagree.
 */
export function serviceAttributes(rec: ServiceRecord): Attributes {
  return {
    service_type: wellFormed(rec.type),
    service_name: wellFormed(rec.name),
    address: wellFormed(rec.addr),
  };
}

export function versionAttribute(version: string | undefined): Attributes {
  return { version: wellFormed(version ?? '') };
}

/**
 * The block rides on the producer's ScopeMetrics under a symbol: the reader passes scope objects on as they are,
 * and anything else that reads them sees only the ordinary families.
 */
const SERVICES = Symbol('per-service families');

type WithServices = ScopeMetrics & { [SERVICES]?: ServiceBlock };

export function withServices(scope: ScopeMetrics, block: ServiceBlock): ScopeMetrics {
  Object.defineProperty(scope, SERVICES, { value: block, enumerable: false });
  return scope;
}

export function servicesOf(scope: ScopeMetrics): ServiceBlock | undefined {
  return (scope as WithServices)[SERVICES];
}
