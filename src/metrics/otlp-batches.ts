/**
 * One export cut into requests of ~2,500 data points. A request is encoded only when it is about to be sent, so
 * only one request's bytes (and, for JSON, its data points) exist at a time, and no single synchronous step
 * grows with the number of services: at 10,000 services an export is ~50,000 points and 9 MiB of protobuf.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import {
  type DataPoint,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ServiceRecord } from '../discovery/types.js';
import { metricData } from './otel-metric-data.js';
import { type ServiceBlock, serviceAttributes, servicesOf, versionAttribute } from './otel-service-block.js';
import type { Labels } from './samples.js';
import { PER_SERVICE_FAMILIES, POINTS_PER_SERVICE } from './service-families.js';

/** Points per request: ~1 ms of protobuf encoding, ~0.4 MiB on the wire. */
export const POINTS_PER_REQUEST = 2500;

/** Consecutive services of one listener. */
export interface ServiceSlice {
  readonly base: Labels;
  readonly records: readonly ServiceRecord[];
}

export interface BatchServices {
  readonly block: ServiceBlock;
  readonly slices: ServiceSlice[];
}

/** One scope's share of a request: its ordinary metrics (the first request only) and some of its services. */
export interface BatchScope {
  readonly scope: ScopeMetrics;
  services?: BatchServices;
}

export interface ExportBatch {
  readonly resource: Resource;
  readonly scopes: BatchScope[];
  /** Data points in the request, at most (a service without an age has one point fewer). */
  points: number;
}

/** Sums and gauges: what the protobuf encoder writes itself, and may share a request with the services. */
export function onlyNumbers(metrics: readonly MetricData[]): boolean {
  return metrics.every(
    (m) => m.dataPointType === DataPointType.GAUGE || m.dataPointType === DataPointType.SUM,
  );
}

/**
 * The requests of one export, lazily. The first carries every ordinary metric (the producer's small families
 * and whatever instruments the MeterProvider has) and as many services as fit beside them; each next one a
 * further run of services. `pointsPerRequest` may differ from request to request (given the request's index).
 */
export function* splitExport(
  metrics: ResourceMetrics,
  pointsPerRequest: number | ((request: number) => number) = POINTS_PER_REQUEST,
): Generator<ExportBatch, void, undefined> {
  const { resource } = metrics;
  const pointsOf = typeof pointsPerRequest === 'number' ? () => pointsPerRequest : pointsPerRequest;
  let requests = 0;
  let batch: ExportBatch = { resource, scopes: [], points: 0 };
  for (const sm of metrics.scopeMetrics) {
    batch.scopes.push({ scope: sm });
    for (const m of sm.metrics) batch.points += m.dataPoints.length;
  }
  const shared = metrics.scopeMetrics.every((sm) => onlyNumbers(sm.metrics));
  let room = shared ? Math.max(0, Math.floor((pointsOf(0) - batch.points) / POINTS_PER_SERVICE)) : 0;

  for (const sm of metrics.scopeMetrics) {
    const block = servicesOf(sm);
    if (!block) continue;
    for (const { base, records } of block.listeners) {
      let from = 0;
      while (from < records.length) {
        if (room === 0) {
          yield batch;
          batch = { resource, scopes: [], points: 0 };
          room = Math.max(1, Math.floor(pointsOf(++requests) / POINTS_PER_SERVICE));
        }
        const take = Math.min(room, records.length - from);
        servicesIn(batch, sm, block).slices.push({ base, records: records.slice(from, from + take) });
        from += take;
        room -= take;
        batch.points += take * POINTS_PER_SERVICE;
      }
    }
  }
  yield batch;
}

function servicesIn(batch: ExportBatch, sm: ScopeMetrics, block: ServiceBlock): BatchServices {
  let entry = batch.scopes.find((s) => s.scope.scope === sm.scope);
  if (!entry) {
    entry = { scope: { scope: sm.scope, metrics: [] } };
    batch.scopes.push(entry);
  }
  entry.services ??= { block, slices: [] };
  return entry.services;
}

/**
 * A request as the SDK's serializers take it: the services' points built as DataPoints. The JSON path sends
 * this; tests compare the protobuf encoder against the SDK's serializer on it.
 */
export function expandBatch(batch: ExportBatch): ResourceMetrics {
  return {
    resource: batch.resource,
    scopeMetrics: batch.scopes.map(({ scope, services }) => ({
      scope: scope.scope,
      metrics: services ? [...scope.metrics, ...servicePoints(services)] : scope.metrics,
    })),
  };
}

function servicePoints({ block, slices }: BatchServices): MetricData[] {
  const rows: { rec: ServiceRecord; attrs: Attributes }[] = [];
  for (const { base, records } of slices)
    for (const rec of records) rows.push({ rec, attrs: { ...base, ...serviceAttributes(rec) } });
  const out: MetricData[] = [];
  for (const family of PER_SERVICE_FAMILIES) {
    const startTime = family.def.type === 'counter' ? block.start : block.time;
    const points: DataPoint<number>[] = [];
    for (const { rec, attrs } of rows) {
      if (family.has && !family.has(rec)) continue;
      points.push({
        startTime,
        endTime: block.time,
        attributes: family.withVersion ? { ...attrs, ...versionAttribute(rec.version) } : attrs,
        value: family.value(rec),
      });
    }
    if (points.length > 0) out.push(metricData(family.def, points));
  }
  return out;
}
