/**
 * The OTLP/HTTP (JSON) pipeline: an sdk-metrics MeterProvider whose periodic reader also collects from
 * AgentMetricProducer, so every export is built from the registries at that moment. Loaded by otlp.ts only
 * when OTLP is configured.
 */
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from '../config/types.js';
import type { AgentState } from '../state.js';
import { AgentMetricProducer, SCOPE_NAME } from './otel-producer.js';

/** The SDK's default per-instrument cardinality limit, past which series fold into an overflow series. */
const SDK_DEFAULT_CARDINALITY = 2000;
/**
 * Data points per OTLP request. The exporter serializes a request to JSON in one synchronous call; at 10,000
 * services an unsplit export is ~50,000 points and ~20 MiB, long enough to hold the receive socket off. Split,
 * each request takes a fraction of that and the event loop turns between them.
 */
const EXPORT_BATCH_POINTS = 5000;

export interface OtlpPipeline {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

export function createOtlpPipeline(state: AgentState, cfg: OtlpConfig): OtlpPipeline {
  const exporter = new OTLPMetricExporter({
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
