/**
 * The per-service families and what each service has in them: one table that /metrics (service-series.ts)
 * and the OTLP export (otlp-batches.ts, otlp-protobuf-services.ts) both write from, so the two cannot disagree
 * on a value, on which services have a point, or on the order.
 */
import type { ServiceRecord } from '../discovery/types.js';
import { METRICS, type MetricDef } from './names.js';

export interface ServiceFamily {
  readonly def: MetricDef;
  /** False for a service with no point in this family; every service has one when absent. */
  readonly has?: (rec: ServiceRecord) => boolean;
  readonly value: (rec: ServiceRecord) => number;
  /** service_info carries the announced version as one more attribute. */
  readonly withVersion: boolean;
}

/** In the order the families are exported, the same as /metrics. */
export const PER_SERVICE_FAMILIES: readonly ServiceFamily[] = [
  { def: METRICS.serviceUp, value: (rec) => (rec.state === 'up' ? 1 : 0), withVersion: false },
  {
    def: METRICS.serviceLastSeen,
    value: (rec) => rec.lastSeenWallMs / 1000,
    withVersion: false,
  },
  { def: METRICS.serviceInfo, value: () => 1, withVersion: true },
  // No sender timestamp, no age: a made-up 0 would read as a perfectly synchronised clock.
  {
    def: METRICS.serviceAge,
    has: (rec) => rec.ageSeconds !== undefined,
    value: (rec) => rec.ageSeconds ?? Number.NaN,
    withVersion: false,
  },
  { def: METRICS.serviceLost, value: (rec) => rec.lost, withVersion: false },
];

/** Points a service has at most. */
export const POINTS_PER_SERVICE = PER_SERVICE_FAMILIES.length;
