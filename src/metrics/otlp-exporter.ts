/**
 * The agent's OTLP/HTTP metric exporter: the SDK's transport (retries, timeouts, headers, proxies) under an
 * exporter that sends an export as a sequence of requests (otlp-batches.ts), each encoded just before it is sent
 * and the next one only once the previous one is answered and the receive sockets are drained. So one request's
 * bytes exist at a time, and at 10,000 services no synchronous step takes more than ~1 ms of protobuf.
 */

import type { IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import {
  AggregationTemporality,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ByteWriter } from './byte-writer.js';
import { type ExportBatch, expandBatch, POINTS_PER_REQUEST, splitExport } from './otlp-batches.js';
import type { OtlpConfig } from './otlp-config.js';
import { encodeBatch } from './otlp-protobuf.js';
import { TimeSlicer } from './time-slicer.js';

type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];

/** @opentelemetry/core's ExportResultCode (SUCCESS 0, FAILED 1), which this package does not depend on. */
const SUCCESS: ExportResult['code'] = 0;
const FAILED: ExportResult['code'] = 1;

/**
 * JSON costs several times protobuf's CPU a point (data points built, then the SDK's object tree, then
 * JSON.stringify), so its requests are smaller: ~2 ms each at 1,000 points, where 2,500 held the loop ~6 ms.
 */
const JSON_POINTS_PER_REQUEST = 1000;

/**
 * Points in an exporter's first request; each next one doubles it up to the usual size. Cold (not yet compiled
 * and optimised) code encodes several times slower: the first export's first 2,500-point request held the loop
 * 10–12 ms, where a warm one takes ~2 ms.
 */
const FIRST_REQUEST_POINTS = 250;

/** A request already encoded, with its point count for the transport's own metrics. */
interface EncodedRequest {
  readonly body: Uint8Array;
  readonly points: number;
}

export interface ExporterOptions {
  readonly config: OtlpConfig;
  /** Longest time one export (all its requests) may take; each request gets it as its own timeout too. */
  readonly timeoutMs: number;
}

export class OtlpBatchExporter implements PushMetricExporter {
  readonly #delegate: IOtlpExportDelegate<EncodedRequest>;
  readonly #encode: (batch: ExportBatch, writer: ByteWriter) => Uint8Array;
  readonly #timeoutMs: number;
  readonly #pointsPerRequest: number;
  /** Requests encoded so far (counted up to the end of the warm-up only). */
  #encoded = 0;

  constructor({ config, timeoutMs }: ExporterOptions) {
    const json = config.protocol === 'http/json';
    const responses = json ? JsonMetricsSerializer : ProtobufMetricsSerializer;
    // JSON is asked for by name only: it builds the batch's data points and hands them to the SDK's serializer.
    this.#encode = json
      ? (batch) => JsonMetricsSerializer.serializeRequest(expandBatch(batch)) ?? new Uint8Array()
      : encodeBatch;
    this.#timeoutMs = timeoutMs;
    this.#pointsPerRequest = json ? JSON_POINTS_PER_REQUEST : POINTS_PER_REQUEST;
    this.#delegate = createOtlpHttpExportDelegate(
      convertLegacyHttpOptions(
        { url: config.endpoint, headers: { ...config.headers }, timeoutMillis: timeoutMs },
        'METRICS',
        'v1/metrics',
        { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' },
      ),
      {
        serializeRequest: (request: EncodedRequest) => request.body,
        deserializeResponse: (data: Uint8Array) => responses.deserializeResponse(data),
      },
      'otlp_http_metric_exporter',
      { name: 'metric_data_point', countItems: (request: EncodedRequest) => request.points },
      undefined,
    );
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.#send(metrics).then(done, (error: unknown) =>
      done({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  /** Stops at the first request that fails (after the transport's retries): the next ones would too. */
  async #send(metrics: ResourceMetrics): Promise<ExportResult> {
    const deadline = performance.now() + this.#timeoutMs;
    // Each request is written over the previous one, which the transport is done with once it is answered: no
    // fresh half-megabyte buffer (and its page faults) per request.
    const writer = new ByteWriter(0);
    const slicer = new TimeSlicer();
    const warm = this.#encoded;
    const points = (request: number) =>
      Math.min(this.#pointsPerRequest, FIRST_REQUEST_POINTS * 2 ** Math.min(warm + request, 16));
    for (const batch of splitExport(metrics, points)) {
      // The receive path goes first: the loop turns until busy sockets are read (time-slicer.ts).
      await slicer.yield();
      if (performance.now() > deadline)
        return { code: FAILED, error: new Error(`OTLP export took longer than ${this.#timeoutMs} ms`) };
      const body = this.#encode(batch, writer);
      if (this.#encoded < 16) this.#encoded++;
      const result = await new Promise<ExportResult>((resolve) =>
        this.#delegate.export({ body, points: batch.points }, resolve),
      );
      if (result.code !== SUCCESS) return result;
    }
    return { code: SUCCESS };
  }

  /** Cumulative, as Prometheus expects: a counter's value is its lifetime total. */
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  forceFlush(): Promise<void> {
    return this.#delegate.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#delegate.shutdown();
  }
}
