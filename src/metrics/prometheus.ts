/**
 * /metrics: the per-listener, per-publisher and agent families (samples.ts) and prom-client's process and
 * Node.js metrics go first, then the per-service families from the registries (service-series.ts), as one
 * body streamed in chunks, in the text format or OpenMetrics. Nothing is cached between scrapes: each family
 * is read from the library objects when it is rendered, so a removed listener or a forgotten service is gone
 * from the very next scrape.
 *
 * prom-client only collects its default metrics here; the text of every family is written by this module, so
 * both formats come from one place (prom-client's own OpenMetrics mode renames counters in place, which would
 * break the next text scrape).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  CONTENT_TYPES,
  type ExpositionFormat,
  type FamilyMeta,
  familyHeader,
  sampleLine,
} from './exposition.js';
import { refreshKernelDrops } from './kernel-drops.js';
import { METRICS } from './names.js';
import { SAMPLE_READERS, type SampledFamilyKey } from './samples.js';
import { collectBody, type ServiceSeriesOptions, type Sink, writeServiceSeries } from './service-series.js';
import type { AgentState } from './state.js';
import { TimeSlicer } from './time-slicer.js';

export type { Sink } from './service-series.js';

export interface MetricsHandlerOptions extends ServiceSeriesOptions {
  /** prom-client's process_* and nodejs_* metrics. */
  readonly processMetrics: boolean;
}

export interface MetricsHandler {
  /** The text format's content type. */
  readonly contentType: string;
  contentTypeOf(format: ExpositionFormat): string;
  /** Streams the body to `sink` in chunks, giving the event loop back between slices of work. */
  write(sink: Sink, format?: ExpositionFormat, chunkBytes?: number): Promise<void>;
  render(format?: ExpositionFormat): Promise<string>;
  renderBuffer(format?: ExpositionFormat): Promise<Buffer>;
}

/**
 * prom-client default metrics the agent leaves out:
 * - `nodejs_active_{handles,requests,resources}_total` are gauges, which `promtool check metrics` rejects
 *   (`_total` is for counters) and OpenMetrics forbids; the same numbers are in `nodejs_active_handles` etc.
 *   by type (sum them).
 * - `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds` come from perf_hooks' delay histogram,
 *   which records the whole sampling interval (100 ms here), so an idle agent read ~0.1 s. They are not a lag;
 *   `nodejs_eventloop_lag_seconds`, measured at each scrape, is, and stays.
 */
const LEFT_OUT = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
  ...['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((s) => `nodejs_eventloop_lag_${s}_seconds`),
];

function dropMisleadingMetrics(registry: Registry): void {
  for (const name of LEFT_OUT) registry.removeSingleMetric(name);
}

interface PromClientValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

async function processFamilies(registry: Registry, format: ExpositionFormat): Promise<string> {
  let text = '';
  for (const m of await registry.getMetricsAsJSON()) {
    const values = m.values as PromClientValue[];
    text += familyHeader({ name: m.name, help: m.help, type: String(m.type) as FamilyMeta['type'] }, format);
    for (const v of values) text += sampleLine(v.metricName ?? m.name, v.labels, v.value);
  }
  return text;
}

async function sampledFamilies(
  state: AgentState,
  format: ExpositionFormat,
  slicer: TimeSlicer,
): Promise<string> {
  let text = '';
  for (const key of Object.keys(SAMPLE_READERS) as SampledFamilyKey[]) {
    const def = METRICS[key];
    text += familyHeader(def, format);
    for (const s of await SAMPLE_READERS[key](state, slicer)) text += sampleLine(def.name, s.labels, s.value);
  }
  return text;
}

export function createMetricsHandler(state: AgentState, opts: MetricsHandlerOptions): MetricsHandler {
  let registry: Registry | undefined;
  if (opts.processMetrics) {
    registry = new Registry();
    // prom-client samples event-loop delay with a 10 ms timer by default: on an idle node that timer alone
    // was ~0.9 % of a core (npm run bench -- idle). 100 ms still catches every stall worth a metric.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    dropMisleadingMetrics(registry);
  }
  const write = async (sink: Sink, format: ExpositionFormat = 'text', chunkBytes?: number): Promise<void> => {
    await refreshKernelDrops(state);
    // One slicer for the whole body: each part's slices alone would be short, but the end of one part, the
    // next part and the start of the one after ran in one turn (~7 ms at 10,000 services).
    const slicer = new TimeSlicer(opts);
    let prefix = await sampledFamilies(state, format, slicer);
    if (registry) {
      // prom-client collects synchronously (it reads /proc): ~1–2 ms of its own, between two turns.
      await slicer.yield();
      prefix += await processFamilies(registry, format);
      await slicer.yield();
    }
    await writeServiceSeries(state, sink, { ...opts, format, prefix, chunkBytes, slicer });
  };
  const renderBuffer = (format?: ExpositionFormat) => collectBody((sink) => write(sink, format));
  return {
    contentType: CONTENT_TYPES.text,
    contentTypeOf: (format) => CONTENT_TYPES[format],
    write,
    renderBuffer,
    render: async (format) => (await renderBuffer(format)).toString('utf8'),
  };
}
