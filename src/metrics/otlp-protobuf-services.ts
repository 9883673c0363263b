/**
 * The five per-service families as protobuf, written from the service records of one request: no data point
 * object is built. Each service's attributes are encoded once and kept while it keeps its identity
 * (service-bytes.ts), and within a request what several of its points share is written once and copied.
 */
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { ServiceRecord } from '../discovery/types.js';
import type { ByteWriter } from './byte-writer.js';
import { metricData } from './otel-metric-data.js';
import { serviceAttributes, versionAttribute } from './otel-service-block.js';
import type { BatchServices } from './otlp-batches.js';
import {
  encodedKeyValues,
  fieldLength,
  headOf,
  type PlannedMetric,
  POINT_FIXED_BYTES,
  POINT_TAG,
  planned,
  pointValue,
  START_TAG,
  TIME_TAG,
  timeBytes,
} from './otlp-protobuf-parts.js';
import { type ServiceBytes, serviceBytes } from './service-bytes.js';
import { PER_SERVICE_FAMILIES, type ServiceFamily } from './service-families.js';

/**
 * A service's own attributes (service_type, service_name, address) and its version as field-7 bytes; its
 * listener's attributes go before them (a repeated field may be written in pieces). One string per service:
 * the SDK's way, two attribute objects per service, cost ~0.7 KB each.
 */
const encodedService = serviceBytes(
  (rec) => encodedKeyValues(serviceAttributes(rec)),
  (version) => encodedKeyValues(versionAttribute(version)),
);

/** Encodes a service's attributes now (see prepareServiceLabels in service-series.ts). */
export function prepareServiceAttributes(rec: ServiceRecord): void {
  encodedService(rec);
}

/** A per-service family's descriptor and header bytes, built once. */
const FAMILY_SHAPES = new Map(
  PER_SERVICE_FAMILIES.map((family) => {
    const shape = metricData(family.def, []);
    return [family, { shape, head: headOf(shape.descriptor), asInt: shape.descriptor.valueType === 0 }];
  }),
);

/**
 * The services of one request, each with its listener's attribute bytes and its own. What several of a
 * service's points share is written once per request and copied from there (a memory move is a fraction of
 * encoding again): its attributes, and a point's whole start up to its value (tag, length, attributes and the
 * two times), which is the same for up, last_seen and age.
 */
interface ServiceRows {
  readonly records: ServiceRecord[];
  readonly bases: Buffer[];
  readonly encoded: ServiceBytes[];
  /** Bytes of each service's attributes without its version. */
  readonly own: number[];
  /** Where each service's attributes were first written in the request (-1: not yet). */
  readonly attributesAt: number[];
  /** Where each service's point start of each shape (POINT_SHAPES) was first written (-1: not yet), and its end. */
  readonly startsAt: number[];
  readonly startsEnd: number[];
  /** Where each version attribute was first written. */
  readonly versionsAt: Map<string, number>;
}

/** Point starts differ by the version attribute (service_info) and the start time (sums). */
const POINT_SHAPES = 4;

function shapeOf(family: ServiceFamily): number {
  return (family.withVersion ? 1 : 0) + (family.def.type === 'counter' ? 2 : 0);
}

function rowsOf(services: BatchServices): ServiceRows {
  let n = 0;
  for (const slice of services.slices) n += slice.records.length;
  const records = new Array<ServiceRecord>(n);
  const bases = new Array<Buffer>(n);
  const encoded = new Array<ServiceBytes>(n);
  const own = new Array<number>(n).fill(0);
  let i = 0;
  for (const slice of services.slices) {
    const base = Buffer.from(encodedKeyValues(slice.base), 'latin1');
    for (const rec of slice.records) {
      const e = encodedService(rec);
      records[i] = rec;
      bases[i] = base;
      encoded[i] = e;
      own[i] = base.length + e.identity.length;
      i++;
    }
  }
  return {
    records,
    bases,
    encoded,
    own,
    attributesAt: new Array<number>(n).fill(-1),
    startsAt: new Array<number>(n * POINT_SHAPES).fill(-1),
    startsEnd: new Array<number>(n * POINT_SHAPES).fill(0),
    versionsAt: new Map(),
  };
}

/** A service's attributes: its listener's, then its own. */
function serviceAttributeBytes(out: ByteWriter, rows: ServiceRows, i: number): void {
  const at = rows.attributesAt[i] as number;
  if (at >= 0) {
    out.again(at, at + (rows.own[i] as number));
    return;
  }
  rows.attributesAt[i] = out.length;
  out.bytes(rows.bases[i] as Buffer);
  out.ascii((rows.encoded[i] as ServiceBytes).identity);
}

function versionAttributeBytes(out: ByteWriter, rows: ServiceRows, bytes: string): void {
  const at = rows.versionsAt.get(bytes);
  if (at !== undefined) {
    out.again(at, at + bytes.length);
    return;
  }
  rows.versionsAt.set(bytes, out.length);
  out.ascii(bytes);
}

/** One per-service family over a request's services, its values read from the records now. */
function planFamily(
  family: ServiceFamily,
  rows: ServiceRows,
  start: Buffer,
  end: Buffer,
): PlannedMetric | undefined {
  const { records, encoded, own, startsAt, startsEnd } = rows;
  const { has, value, withVersion } = family;
  const attributesOf = (i: number) =>
    (own[i] as number) + (withVersion ? (encoded[i] as ServiceBytes).version.length : 0);
  let points = 0;
  let count = 0;
  for (let i = 0; i < records.length; i++) {
    if (has && !has(records[i] as ServiceRecord)) continue;
    points += fieldLength(attributesOf(i) + POINT_FIXED_BYTES);
    count++;
  }
  if (count === 0) return undefined;
  const { shape, head, asInt } = FAMILY_SHAPES.get(family) as {
    shape: MetricData;
    head: Buffer;
    asInt: boolean;
  };
  const slotOf = shapeOf(family);
  return planned(shape, head, points, (out) => {
    for (let i = 0; i < records.length; i++) {
      const rec = records[i] as ServiceRecord;
      if (has && !has(rec)) continue;
      const slot = i * POINT_SHAPES + slotOf;
      const at = startsAt[slot] as number;
      if (at >= 0) {
        out.again(at, startsEnd[slot] as number);
      } else {
        startsAt[slot] = out.length;
        out.byte(POINT_TAG);
        out.varint(attributesOf(i) + POINT_FIXED_BYTES);
        serviceAttributeBytes(out, rows, i);
        if (withVersion) versionAttributeBytes(out, rows, (encoded[i] as ServiceBytes).version);
        out.byte(START_TAG);
        out.bytes(start);
        out.byte(TIME_TAG);
        out.bytes(end);
        startsEnd[slot] = out.length;
      }
      pointValue(out, value(rec), asInt);
    }
  });
}

export function planServices(services: BatchServices): PlannedMetric[] {
  const rows = rowsOf(services);
  const time = timeBytes(services.block.time);
  const since = timeBytes(services.block.start);
  const out: PlannedMetric[] = [];
  for (const family of PER_SERVICE_FAMILIES) {
    const plan = planFamily(family, rows, family.def.type === 'counter' ? since : time, time);
    if (plan) out.push(plan);
  }
  return out;
}
