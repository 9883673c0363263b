/**
 * The agent's OpenTelemetry data, produced fresh at every collection from the same readers as /metrics.
 *
 * Why a MetricProducer and not observable instruments: the SDK keeps exporting every attribute set an
 * observable callback ever reported (opentelemetry-js#4096), so a forgotten service or a removed listener
 * would be exported with its last value forever. A producer hands the reader complete data points each time;
 * what is not in the registry any more is simply not in the export. It also bypasses the SDK's per-instrument
 * cardinality limit (2,000 series, then an overflow series), which the per-service families would exceed.
 *
 * The per-service families are not data points here: the scope carries the services selected for each listener
 * (otel-service-block.ts), and the exporter writes their points request by request (otlp-exporter.ts).
 */

import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, DataPoint, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { refreshKernelDrops } from './kernel-drops.js';
import { METRICS, type MetricDef } from './names.js';
import { metricData, toHrTime } from './otel-metric-data.js';
import { type ListenerServices, withServices } from './otel-service-block.js';
import { listenerLabels, SAMPLE_READERS, type Sample, type SampledFamilyKey } from './samples.js';
import { selectServices } from './service-select.js';
import type { AgentState } from './state.js';
import { type SliceOptions, TimeSlicer } from './time-slicer.js';

export const SCOPE_NAME = 'vault-multicast-agent';

export type ProducerOptions = SliceOptions;

export class AgentMetricProducer implements MetricProducer {
  readonly #state: AgentState;
  readonly #opts: ProducerOptions;

  constructor(state: AgentState, opts: ProducerOptions = {}) {
    this.#state = state;
    this.#opts = opts;
  }

  async collect(): Promise<CollectionResult> {
    const state = this.#state;
    await refreshKernelDrops(state);
    const nowMs = Date.now();
    const time = toHrTime(nowMs);
    // Cumulative sums count from the agent's start (a listener re-created by a reload restarts at zero,
    // which back ends read as a counter reset, as they do for a process restart).
    const start = toHrTime(state.startedWallMs);
    const point = (def: MetricDef, s: Sample): DataPoint<number> => ({
      startTime: def.type === 'counter' ? start : time,
      endTime: time,
      attributes: s.labels,
      value: s.value,
    });

    const slicer = new TimeSlicer(this.#opts);
    const metrics: MetricData[] = [];
    for (const key of Object.keys(SAMPLE_READERS) as SampledFamilyKey[]) {
      const def = METRICS[key];
      const samples = await SAMPLE_READERS[key](state, slicer);
      if (samples.length > 0)
        metrics.push(
          metricData(
            def,
            samples.map((s) => point(def, s)),
          ),
        );
    }

    const omitted: DataPoint<number>[] = [];
    const listeners: ListenerServices[] = [];
    for (const entry of state.listeners()) {
      const base = listenerLabels(entry);
      const { records, omitted: count } = await selectServices(entry, state.maxServiceSeries, slicer);
      omitted.push(point(METRICS.serviceSeriesDropped, { labels: base, value: count }));
      listeners.push({ base, records });
    }
    if (omitted.length > 0) metrics.push(metricData(METRICS.serviceSeriesDropped, omitted));

    const scope = { scope: { name: SCOPE_NAME, version: state.version }, metrics };
    return {
      // The reader keeps the MeterProvider's resource and takes only the scope metrics from here.
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [withServices(scope, { listeners, start, time })],
      },
      errors: [],
    };
  }
}
