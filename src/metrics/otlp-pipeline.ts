/**
 * The OTLP/HTTP pipeline (protobuf by default, JSON on request): an sdk-metrics MeterProvider whose periodic
 * reader also collects from AgentMetricProducer, so every export is built from the registries at that moment,
 * and hands each export to OtlpBatchExporter, which sends it in requests of ~2,500 points. Loaded by otlp.ts
 * only when OTLP is configured.
 */
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { ServiceRecord } from '../discovery/types.js';
import { AgentMetricProducer, SCOPE_NAME } from './otel-producer.js';
import type { OtlpConfig } from './otlp-config.js';
import { OtlpBatchExporter } from './otlp-exporter.js';
import { prepareServiceAttributes } from './otlp-protobuf-services.js';
import type { AgentState } from './state.js';

/** The SDK's default per-instrument cardinality limit, past which series fold into an overflow series. */
const SDK_DEFAULT_CARDINALITY = 2000;

export interface OtlpPipeline {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
  prepare(rec: ServiceRecord): void;
}

export function createOtlpPipeline(state: AgentState, cfg: OtlpConfig): OtlpPipeline {
  const timeoutMs = Math.min(cfg.intervalMs, 30_000);
  const reader = new PeriodicExportingMetricReader({
    // It splits an export into requests itself (the reader's maxExportBatchSize would need every data point).
    exporter: new OtlpBatchExporter({ config: cfg, timeoutMs }),
    exportIntervalMillis: cfg.intervalMs,
    exportTimeoutMillis: timeoutMs,
    metricProducers: [new AgentMetricProducer(state)],
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
    // JSON goes through the SDK's own encoder, which keeps nothing between exports.
    prepare: cfg.protocol === 'http/json' ? () => {} : prepareServiceAttributes,
  };
}
