/**
 * The pieces of opentelemetry-proto's metrics messages that both protobuf encoders write (otlp-protobuf.ts for
 * a request and its ordinary metrics, otlp-protobuf-services.ts for the per-service families): the wire format's
 * tags and lengths, attributes (common.proto KeyValue), times and values of a NumberDataPoint, and a Metric
 * message whose length is known before it is written.
 */
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type MetricDescriptor,
} from '@opentelemetry/sdk-metrics';
import { ByteWriter } from './byte-writer.js';

export const LEN = 2;
export const I64 = 1;

export function tag(out: ByteWriter, field: number, wire: number): void {
  out.varint((field << 3) | wire);
}

export function bytesField(out: ByteWriter, field: number, bytes: Uint8Array): void {
  tag(out, field, LEN);
  out.varint(bytes.length);
  out.bytes(bytes);
}

export function stringField(out: ByteWriter, field: number, text: string | undefined): void {
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
export function fieldLength(len: number): number {
  return 1 + varintLength(len) + len;
}

/** `repeated KeyValue` under `field`: key 1, value 2. String values (all the agent sends) without copies. */
export function keyValues(out: ByteWriter, field: number, attrs: Attributes): void {
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
 * Where small messages (attribute sets, metric headers, the resource) are written before they are copied out: a
 * writer of their own each allocated a buffer outside the heap, ~100 per export.
 */
const scratch = new ByteWriter(4096);

/** A small message's bytes, written whole. */
export function small(write: (out: ByteWriter) => void): Buffer {
  scratch.reset(0);
  write(scratch);
  return Buffer.from(scratch.result());
}

export function encodedKeyValues(attrs: Attributes): string {
  scratch.reset(0);
  keyValues(scratch, 7, attrs);
  return scratch.result().toString('latin1');
}

/** Nanoseconds since the epoch as fixed64 bytes (past 2^53, so through a BigInt). */
export function timeBytes(t: HrTime): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]));
  return bytes;
}

/** metrics.proto NumberDataPoint: start 2, time 3, as_double 4, as_int 6, attributes 7 (then 27 bytes). */
export const POINT_FIXED_BYTES = 27;

/** 2^63: sfixed64's range. */
const INT64_LIMIT = 2 ** 63;

/** NumberDataPoint's tags: start_time_unix_nano 2, time_unix_nano 3 (fixed64), as_double 4, as_int 6. */
export const START_TAG = (2 << 3) | I64;
export const TIME_TAG = (3 << 3) | I64;
const DOUBLE_TAG = (4 << 3) | I64;
const INT_TAG = (6 << 3) | I64;
/** Gauge/Sum's data_points 1, length-delimited. */
export const POINT_TAG = (1 << 3) | LEN;

/** The value of a number data point: as_int 6 or as_double 4. */
export function pointValue(out: ByteWriter, value: number, asInt: boolean): void {
  // A whole number past 2^53 is still exact as a double, and the SDK writes it as an integer too.
  if (asInt && Number.isInteger(value) && Math.abs(value) < INT64_LIMIT) {
    out.byte(INT_TAG);
    out.i64(value);
  } else {
    out.byte(DOUBLE_TAG);
    out.f64(value);
  }
}

/** A Metric message (field 2 of ScopeMetrics) whose length is known before it is written. */
export interface PlannedMetric {
  readonly length: number;
  write(out: ByteWriter): void;
}

/** A metric's name 1, description 2 and unit 3. */
export function headOf(descriptor: MetricDescriptor): Buffer {
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
export function planned(
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
