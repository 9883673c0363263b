/**
 * OTLP metrics as protobuf (opentelemetry-proto's ExportMetricsServiceRequest), written straight into bytes.
 * The SDK's own serializer builds an object tree per data point and costs ~3–4 µs a point: 150–220 ms for the
 * 50,000 points of 10,000 services. Here the per-service points are written from the service records
 * themselves, never built as objects: each service's attributes are encoded once and kept while it keeps its
 * identity, so a point is its attribute bytes copied and three numbers written. Sums and gauges only (all the
 * agent produces); a request with anything else goes to the SDK's serializer.
 */
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type MetricDescriptor,
} from '@opentelemetry/sdk-metrics';
import type { ServiceRecord } from '../discovery/types.js';
import { ByteWriter } from './byte-writer.js';
import { metricData } from './otel-metric-data.js';
import {
  PER_SERVICE_FAMILIES,
  type ServiceFamily,
  serviceAttributes,
  versionAttribute,
} from './otel-service-block.js';
import { type BatchServices, type ExportBatch, expandBatch, onlyNumbers } from './otlp-batches.js';
import { type ServiceBytes, serviceBytes } from './service-bytes.js';

const LEN = 2;
const I64 = 1;

function tag(out: ByteWriter, field: number, wire: number): void {
  out.varint((field << 3) | wire);
}

function bytesField(out: ByteWriter, field: number, bytes: Uint8Array): void {
  tag(out, field, LEN);
  out.varint(bytes.length);
  out.bytes(bytes);
}

function stringField(out: ByteWriter, field: number, text: string | undefined): void {
  if (text) bytesField(out, field, Buffer.from(text, 'utf8'));
}

/** A nested message: written to its own writer, then copied in behind its length. */
function message(out: ByteWriter, field: number, write: (inner: ByteWriter) => void, sizeHint = 256): void {
  const inner = new ByteWriter(sizeHint);
  write(inner);
  bytesField(out, field, inner.result());
}

/** common.proto AnyValue: string 1, bool 2, int 3, double 4, array 5. */
function anyValue(out: ByteWriter, value: AttributeValue): void {
  // A oneof member is written even when empty: "" is a value, not an absent one.
  if (typeof value === 'string') bytesField(out, 1, Buffer.from(value, 'utf8'));
  else if (typeof value === 'boolean') {
    tag(out, 2, 0);
    out.varint(value ? 1 : 0);
  } else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    tag(out, 3, 0);
    out.varint(value);
  } else if (typeof value === 'number') {
    tag(out, 4, I64);
    out.f64(value);
  } else if (Array.isArray(value)) {
    message(out, 5, (arr) => {
      for (const v of value) if (v !== null && v !== undefined) message(arr, 1, (av) => anyValue(av, v));
    });
  }
}

/** Bytes of a varint. */
function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}

/** Bytes of a length-delimited field (one-byte tag) holding `len` bytes. */
function fieldLength(len: number): number {
  return 1 + varintLength(len) + len;
}

/** `repeated KeyValue` under `field`: key 1, value 2. String values (all the agent sends) without copies. */
function keyValues(out: ByteWriter, field: number, attrs: Attributes): void {
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      message(out, field, (kv) => {
        stringField(kv, 1, key);
        message(kv, 2, (av) => anyValue(av, value));
      });
      continue;
    }
    const k = Buffer.byteLength(key, 'utf8');
    const v = Buffer.byteLength(value, 'utf8');
    const any = fieldLength(v);
    tag(out, field, LEN);
    out.varint(fieldLength(k) + fieldLength(any));
    tag(out, 1, LEN);
    out.varint(k);
    out.utf8(key);
    tag(out, 2, LEN);
    out.varint(any);
    tag(out, 1, LEN);
    out.varint(v);
    out.utf8(value);
  }
}

/**
 * A data point's attributes (field 7), encoded once per attribute object and kept on it under a symbol that
 * is not enumerable, so neither the SDK's JSON serializer nor an object spread ever sees it. The bytes are kept
 * as a string of one byte per character (Latin-1), which ByteWriter.ascii() copies back verbatim.
 */
const ENCODED = Symbol('otlp-protobuf attributes');

/**
 * Where small messages (attribute sets, metric headers, the resource) are written before they are copied out: a
 * writer of their own each allocated a buffer outside the heap, ~100 per export.
 */
const scratch = new ByteWriter(4096);

/** A small message's bytes, written whole. */
function small(write: (out: ByteWriter) => void): Buffer {
  scratch.reset(0);
  write(scratch);
  return Buffer.from(scratch.result());
}

function encodedKeyValues(attrs: Attributes): string {
  scratch.reset(0);
  keyValues(scratch, 7, attrs);
  return scratch.result().toString('latin1');
}

function pointAttributes(attrs: Attributes): string {
  const kept = (attrs as { [ENCODED]?: string })[ENCODED];
  if (kept !== undefined) return kept;
  const bytes = encodedKeyValues(attrs);
  Object.defineProperty(attrs, ENCODED, { value: bytes, enumerable: false });
  return bytes;
}

/**
 * A service's own attributes (service_type, service_name, address) and its version as field-7 bytes; its
 * listener's attributes go before them (a repeated field may be written in pieces). One string per service:
 * the SDK's way, two attribute objects per service, cost ~0.7 KB each.
 */
const encodedService = serviceBytes(
  (rec) => encodedKeyValues(serviceAttributes(rec)),
  (version) => encodedKeyValues(versionAttribute(version)),
);

/** Nanoseconds since the epoch as fixed64 bytes (past 2^53, so through a BigInt). */
function timeBytes(t: HrTime): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]));
  return bytes;
}

/** metrics.proto NumberDataPoint: start 2, time 3, as_double 4, as_int 6, attributes 7 (then 27 bytes). */
const POINT_FIXED_BYTES = 27;

/** A number data point after its attributes: start 2, time 3, then as_int 6 or as_double 4. */
function pointTail(out: ByteWriter, start: Buffer, end: Buffer, value: number, asInt: boolean): void {
  out.byte(START_TAG);
  out.bytes(start);
  out.byte(TIME_TAG);
  out.bytes(end);
  pointValue(out, value, asInt);
}

/** A Metric message (field 2 of ScopeMetrics) whose length is known before it is written. */
interface PlannedMetric {
  readonly length: number;
  write(out: ByteWriter): void;
}

/** A metric's name 1, description 2 and unit 3. */
function headOf(descriptor: MetricDescriptor): Buffer {
  return small((head) => {
    stringField(head, 1, descriptor.name);
    stringField(head, 2, descriptor.description);
    stringField(head, 3, descriptor.unit);
  });
}

/**
 * Metric: name 1, description 2, unit 3, gauge 5 or sum 7 (data points 1, temporality 2, monotonic 3), around
 * `points` bytes of data points that `writePoints` writes.
 */
function planned(
  metric: MetricData,
  head: Buffer,
  points: number,
  writePoints: (out: ByteWriter) => void,
): PlannedMetric {
  const isSum = metric.dataPointType === DataPointType.SUM;
  const monotonic = isSum && metric.isMonotonic;
  const container = points + (isSum ? 2 : 0) + (monotonic ? 2 : 0);
  const length = head.length + fieldLength(container);
  return {
    length,
    write(out) {
      tag(out, 2, LEN);
      out.varint(length);
      out.bytes(head);
      tag(out, isSum ? 7 : 5, LEN);
      out.varint(container);
      writePoints(out);
      if (isSum) {
        tag(out, 2, 0);
        // The proto's enum counts from 1 (DELTA) where the SDK's counts from 0.
        out.varint(metric.aggregationTemporality === AggregationTemporality.DELTA ? 1 : 2);
      }
      if (monotonic) {
        tag(out, 3, 0);
        out.varint(1);
      }
    },
  };
}

/** An ordinary metric: its data points' attributes encoded on first use. */
function planMetric(metric: MetricData): PlannedMetric {
  let points = 0;
  for (const dp of metric.dataPoints)
    points += fieldLength(pointAttributes(dp.attributes).length + POINT_FIXED_BYTES);
  const asInt = metric.descriptor.valueType === 0; /* ValueType.INT */
  return planned(metric, headOf(metric.descriptor), points, (out) => {
    // Every point of a collection shares the producer's two time objects: encode each once.
    let lastStart: HrTime | undefined;
    let lastEnd: HrTime | undefined;
    let start: Buffer = Buffer.alloc(0);
    let end = start;
    for (const dp of metric.dataPoints) {
      if (dp.startTime !== lastStart) {
        lastStart = dp.startTime;
        start = timeBytes(lastStart);
      }
      if (dp.endTime !== lastEnd) {
        lastEnd = dp.endTime;
        end = timeBytes(lastEnd);
      }
      const attrs = pointAttributes(dp.attributes);
      tag(out, 1, LEN);
      out.varint(attrs.length + POINT_FIXED_BYTES);
      out.ascii(attrs);
      pointTail(out, start, end, dp.value as number, asInt);
    }
  });
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
  readonly own: Int32Array;
  /** Where each service's attributes were first written in the request (-1: not yet). */
  readonly attributesAt: Int32Array;
  /** Where each service's point start of each shape (POINT_SHAPES) was first written (-1: not yet), and its end. */
  readonly startsAt: Int32Array;
  readonly startsEnd: Int32Array;
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
  const own = new Int32Array(n);
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
    attributesAt: new Int32Array(n).fill(-1),
    startsAt: new Int32Array(n * POINT_SHAPES).fill(-1),
    startsEnd: new Int32Array(n * POINT_SHAPES),
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

/** 2^63: sfixed64's range. */
const INT64_LIMIT = 2 ** 63;

/** NumberDataPoint's tags: start_time_unix_nano 2, time_unix_nano 3 (fixed64), as_double 4, as_int 6. */
const START_TAG = (2 << 3) | I64;
const TIME_TAG = (3 << 3) | I64;
const DOUBLE_TAG = (4 << 3) | I64;
const INT_TAG = (6 << 3) | I64;
/** Gauge/Sum's data_points 1, length-delimited. */
const POINT_TAG = (1 << 3) | LEN;

/** The value of a number data point: as_int 6 or as_double 4. */
function pointValue(out: ByteWriter, value: number, asInt: boolean): void {
  // A whole number past 2^53 is still exact as a double, and the SDK writes it as an integer too.
  if (asInt && Number.isInteger(value) && Math.abs(value) < INT64_LIMIT) {
    out.byte(INT_TAG);
    out.i64(value);
  } else {
    out.byte(DOUBLE_TAG);
    out.f64(value);
  }
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

function planServices(services: BatchServices): PlannedMetric[] {
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

/** The UTF-8 bytes of an optional string field; undefined when it is absent or empty (then not written). */
function textBytes(text: string | undefined): Buffer | undefined {
  return text ? Buffer.from(text, 'utf8') : undefined;
}

/**
 * One request of an export (otlp-batches.ts) as an ExportMetricsServiceRequest: resource_metrics 1 (resource 1,
 * scope_metrics 2, schema_url 3), ScopeMetrics: scope 1, metrics 2, schema_url 3. Every length is computed first
 * and the request is written once, in place, into a buffer of its exact size.
 */
export function encodeBatch(batch: ExportBatch, writer?: ByteWriter): Uint8Array {
  if (!batch.scopes.every((s) => onlyNumbers(s.scope.metrics)))
    return ProtobufMetricsSerializer.serializeRequest(expandBatch(batch)) ?? new Uint8Array();
  const resource = small((res) => keyValues(res, 1, batch.resource.attributes));
  const scopes = batch.scopes.map(({ scope: sm, services }) => {
    const scope = small((s) => {
      stringField(s, 1, sm.scope.name);
      stringField(s, 2, sm.scope.version);
    });
    const metrics = sm.metrics.map(planMetric);
    if (services) metrics.push(...planServices(services));
    const schema = textBytes(sm.scope.schemaUrl);
    let length = fieldLength(scope.length) + (schema ? fieldLength(schema.length) : 0);
    for (const m of metrics) length += fieldLength(m.length);
    return { scope, metrics, schema, length };
  });
  const schema = textBytes(batch.resource.schemaUrl);
  let length = fieldLength(resource.length) + (schema ? fieldLength(schema.length) : 0);
  for (const s of scopes) length += fieldLength(s.length);

  // Room for a varint's worst case past the end: ByteWriter.varint() asks for 10 bytes, and growing would copy
  // the whole request.
  const size = fieldLength(length) + 10;
  const out = writer ?? new ByteWriter(size);
  out.reset(size);
  tag(out, 1, LEN);
  out.varint(length);
  bytesField(out, 1, resource);
  for (const s of scopes) {
    tag(out, 2, LEN);
    out.varint(s.length);
    bytesField(out, 1, s.scope);
    for (const m of s.metrics) m.write(out);
    if (s.schema) bytesField(out, 3, s.schema);
  }
  if (schema) bytesField(out, 3, schema);
  return out.result();
}
