/**
 * /metrics: prom-client renders the per-listener, per-publisher and agent families (plus its process and
 * Node.js metrics), and the per-service families are appended from the registries by a dedicated serializer.
 * Nothing is cached between scrapes: each family is read from the library objects when it is rendered, so a
 * removed listener or a forgotten service is gone from the very next scrape.
 */
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';
import type { AgentState } from '../state.js';
import { refreshKernelDrops } from './kernel-drops.js';
import { METRICS, type MetricDef } from './names.js';
import { SAMPLE_READERS, type SampledFamilyKey, type SampleReader } from './samples.js';
import { type ServiceSeriesOptions, writeServiceSeries } from './service-series.js';

export interface MetricsHandlerOptions extends ServiceSeriesOptions {
  /** prom-client's process_* and nodejs_* metrics. */
  readonly processMetrics: boolean;
}

export interface MetricsHandler {
  readonly contentType: string;
  render(): Promise<string>;
  /**
   * The same body as UTF-8 bytes, ready for `res.end()`: cheaper than render() at large service counts, since
   * the per-service part is built as bytes and never becomes an 8 MB string to encode again.
   */
  renderBuffer(): Promise<Buffer>;
}

/**
 * A prom-client metric whose samples are read on every get(): no label set survives from one scrape to the
 * next, unlike a Gauge whose values stay until someone remembers to remove them.
 */
function sampledMetric(def: MetricDef, read: SampleReader, state: AgentState): Metric {
  return {
    name: def.name,
    help: def.help,
    type: def.type,
    aggregator: 'sum',
    get: async () => ({
      name: def.name,
      help: def.help,
      type: def.type,
      aggregator: 'sum',
      values: read(state).map((s) => ({ labels: s.labels, value: s.value })),
    }),
  } as unknown as Metric;
}

/**
 * prom-client exports `nodejs_active_{handles,requests,resources}_total` as gauges, which `promtool check metrics`
 * rejects (`_total` is for counters). The same numbers are already there by type in `nodejs_active_handles`,
 * `nodejs_active_requests` and `nodejs_active_resources` (sum them), so the misnamed totals are left out and the
 * whole body passes promtool.
 */
function dropMisnamedGauges(registry: Registry): void {
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }
}

export function createMetricsHandler(state: AgentState, opts: MetricsHandlerOptions): MetricsHandler {
  const registry = new Registry();
  for (const key of Object.keys(SAMPLE_READERS) as SampledFamilyKey[]) {
    registry.registerMetric(sampledMetric(METRICS[key], SAMPLE_READERS[key], state));
  }
  if (opts.processMetrics) {
    // prom-client samples event-loop delay with a 10 ms timer by default: on an idle node that timer alone
    // was ~0.9 % of a core (npm run bench -- idle). 100 ms still catches every stall worth a metric.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    dropMisnamedGauges(registry);
  }

  const body = async (): Promise<Buffer> => {
    await refreshKernelDrops(state);
    return writeServiceSeries(state, opts, await registry.metrics());
  };
  return {
    contentType: registry.contentType,
    render: async () => (await body()).toString('utf8'),
    renderBuffer: body,
  };
}
