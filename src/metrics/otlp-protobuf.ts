/**
 * OTLP metrics as protobuf (opentelemetry-proto's ExportMetricsServiceRequest), written straight into bytes.
 * The SDK's own serializer builds an object tree per data point and costs ~3–4 µs a point: 150–220 ms for the
 * 50,000 points of 10,000 services. Here one request of an export (otlp-batches.ts) is written in place into a
 * buffer of its exact size: the ordinary metrics from their data points, the per-service families from the
 * service records (otlp-protobuf-services.ts). Sums and gauges only (all the agent produces); a request with
 * anything else goes to the SDK's serializer.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { ByteWriter } from './byte-writer.js';
import { type ExportBatch, expandBatch, onlyNumbers } from './otlp-batches.js';
import {
  bytesField,
  encodedKeyValues,
  fieldLength,
  headOf,
  keyValues,
  LEN,
  type PlannedMetric,
  POINT_FIXED_BYTES,
  planned,
  pointValue,
  START_TAG,
  small,
  stringField,
  TIME_TAG,
  tag,
  timeBytes,
} from './otlp-protobuf-parts.js';
import { planServices } from './otlp-protobuf-services.js';

/**
 * A data point's attributes (field 7), encoded once per attribute object and kept on it under a symbol that
 * is not enumerable, so neither the SDK's JSON serializer nor an object spread ever sees it. The bytes are kept
 * as a string of one byte per character (Latin-1), which ByteWriter.ascii() copies back verbatim.
 */
const ENCODED = Symbol('otlp-protobuf attributes');

function pointAttributes(attrs: Attributes): string {
  const kept = (attrs as { [ENCODED]?: string })[ENCODED];
  if (kept !== undefined) return kept;
  const bytes = encodedKeyValues(attrs);
  Object.defineProperty(attrs, ENCODED, { value: bytes, enumerable: false });
  return bytes;
}

/** A number data point after its attributes: start 2, time 3, then as_int 6 or as_double 4. */
function pointTail(out: ByteWriter, start: Buffer, end: Buffer, value: number, asInt: boolean): void {
  out.byte(START_TAG);
  out.bytes(start);
  out.byte(TIME_TAG);
  out.bytes(end);
  pointValue(out, value, asInt);
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
