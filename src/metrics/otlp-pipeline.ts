/**
 * The OTLP/HTTP pipeline (protobuf by default, JSON on request): an sdk-metrics MeterProvider whose periodic reader also collects from
 * AgentMetricProducer, so every export is built from the registries at that moment. Loaded by otlp.ts only
 * when OTLP is configured.
 */
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonExporter,
  OTLPMetricExporterBase,
  type OTLPMetricExporterOptions,
} from '@opentelemetry/exporter-metrics-otlp-http';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { MetricsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AgentMetricProducer, SCOPE_NAME } from './otel-producer.js';
import type { OtlpConfig } from './otlp-config.js';
import { FastProtobufMetricsSerializer } from './otlp-protobuf.js';
import type { AgentState } from './state.js';

/** The SDK's default per-instrument cardinality limit, past which series fold into an overflow series. */
const SDK_DEFAULT_CARDINALITY = 2000;
/**
 * Data points per OTLP request. The exporter serializes a request in one synchronous call: at 10,000 services
 * an unsplit export is ~50,000 points (9 MiB of protobuf, 21 MiB of JSON). 2,500 points is ~1 ms of protobuf
 * encoding (~10 ms of JSON), and the event loop turns between two requests.
 */
const EXPORT_BATCH_POINTS = 2500;

export interface OtlpPipeline {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

/**
 * The SDK's OTLP/HTTP protobuf exporter (its transport: retries, timeouts, headers, proxies) with the
 * serializer of otlp-protobuf.ts in place of the SDK's, which alone would cost 150–220 ms per export.
 */
class ProtobufExporter extends OTLPMetricExporterBase {
  constructor(config: OTLPMetricExporterOptions) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', {
          'Content-Type': 'application/x-protobuf',
        }),
        FastProtobufMetricsSerializer,
        'otlp_http_metric_exporter',
        MetricsExporterMetricsHelper,
        undefined,
      ),
      config,
    );
  }
}

export function createOtlpPipeline(state: AgentState, cfg: OtlpConfig): OtlpPipeline {
  const Exporter = cfg.protocol === 'http/json' ? JsonExporter : ProtobufExporter;
  const exporter = new Exporter({
    url: cfg.endpoint,
    headers: { ...cfg.headers },
    // Cumulative, as Prometheus expects: a counter's value is its lifetime total.
    temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
    timeoutMillis: Math.min(cfg.intervalMs, 30_000),
  });
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: cfg.intervalMs,
    exportTimeoutMillis: Math.min(cfg.intervalMs, 30_000),
    metricProducers: [new AgentMetricProducer(state)],
    maxExportBatchSize: EXPORT_BATCH_POINTS,
    // The per-service families bypass the SDK's aggregation (they come from the producer); instruments added
    // through meterProvider still get room for one series per exported service rather than 2,000.
    cardinalityLimits: { default: Math.max(SDK_DEFAULT_CARDINALITY, state.maxServiceSeries + 1) },
  });
  const meterProvider = new MeterProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ 'service.name': SCOPE_NAME, 'service.version': state.version }),
    ),
    readers: [reader],
  });
  return {
    forceFlush: () => meterProvider.forceFlush(),
    shutdown: () => meterProvider.shutdown(),
  };
}
