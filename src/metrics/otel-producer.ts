/**
 * The agent's OpenTelemetry data, produced fresh at every collection from the same readers as /metrics.
 *
 * Why a MetricProducer and not observable instruments: the SDK keeps exporting every attribute set an
 * observable callback ever reported (opentelemetry-js#4096), so a forgotten service or a removed listener
 * would be exported with its last value forever. A producer hands the reader complete data points each time;
 * what is not in the registry any more is simply not in the export. It also bypasses the SDK's per-instrument
 * cardinality limit (2,000 series, then an overflow series), which the per-service families would exceed.
 */
import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { ServiceRecord } from '../discovery/types.js';
import { wellFormed } from './escape.js';
import { refreshKernelDrops } from './kernel-drops.js';
import { METRICS, type MetricDef } from './names.js';
import { otelName, otelUnit } from './otel-names.js';
import {
  type Labels,
  listenerLabels,
  SAMPLE_READERS,
  type Sample,
  type SampledFamilyKey,
} from './samples.js';
import { selectServices } from './service-select.js';
import type { AgentState } from './state.js';
import { type SliceOptions, TimeSlicer } from './time-slicer.js';

export const SCOPE_NAME = 'vault-multicast-agent';

function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function valueType(def: MetricDef): ValueType {
  return /_seconds(_total)?$/.test(def.name) ? ValueType.DOUBLE : ValueType.INT;
}

function metricData(def: MetricDef, points: DataPoint<number>[]): MetricData {
  const descriptor = {
    name: otelName(def),
    description: def.help,
    unit: otelUnit(def),
    valueType: valueType(def),
  };
  if (def.type === 'counter') {
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: points,
    };
  }
  return {
    descriptor,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points,
  };
}

/**
 * A service's attribute sets, kept between collections while the service keeps its identity: at 10,000
 * services that is 20,000 objects not rebuilt (and not collected) every export. Never mutated once built.
 */
interface CachedAttributes {
  listenerKey: string;
  type: string;
  name: string;
  addr: string;
  version: string | undefined;
  attrs: Attributes;
  infoAttrs: Attributes;
}

const attributeCache = new WeakMap<ServiceRecord, CachedAttributes>();

function attributesOf(rec: ServiceRecord, base: Labels, listenerKey: string): CachedAttributes {
  const c = attributeCache.get(rec);
  if (
    c &&
    c.listenerKey === listenerKey &&
    c.type === rec.type &&
    c.name === rec.name &&
    c.addr === rec.addr
  ) {
    if (c.version !== rec.version) {
      c.version = rec.version;
      c.infoAttrs = { ...c.attrs, version: wellFormed(rec.version ?? '') };
    }
    return c;
  }
  const attrs: Attributes = {
    ...base,
    service_type: wellFormed(rec.type),
    service_name: wellFormed(rec.name),
    address: wellFormed(rec.addr),
  };
  const fresh: CachedAttributes = {
    listenerKey,
    type: rec.type,
    name: rec.name,
    addr: rec.addr,
    version: rec.version,
    attrs,
    infoAttrs: { ...attrs, version: wellFormed(rec.version ?? '') },
  };
  attributeCache.set(rec, fresh);
  return fresh;
}

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
    const now = toHrTime(nowMs);
    // Cumulative sums count from the agent's start (a listener re-created by a reload restarts at zero,
    // which back ends read as a counter reset, as they do for a process restart).
    const start = toHrTime(state.startedWallMs);
    const point = (def: MetricDef, attributes: Attributes, value: number): DataPoint<number> => ({
      startTime: def.type === 'counter' ? start : now,
      endTime: now,
      attributes,
      value,
    });
    const fromSamples = (def: MetricDef, samples: Sample[]) =>
      metricData(
        def,
        samples.map((s) => point(def, s.labels, s.value)),
      );

    const slicer = new TimeSlicer(this.#opts);
    const metrics: MetricData[] = [];
    for (const key of Object.keys(SAMPLE_READERS) as SampledFamilyKey[]) {
      const samples = await SAMPLE_READERS[key](state, slicer);
      if (samples.length > 0) metrics.push(fromSamples(METRICS[key], samples));
    }

    const omitted: DataPoint<number>[] = [];
    const up: DataPoint<number>[] = [];
    const lastSeen: DataPoint<number>[] = [];
    const info: DataPoint<number>[] = [];
    const age: DataPoint<number>[] = [];
    const lost: DataPoint<number>[] = [];
    for (const entry of state.listeners()) {
      const base = listenerLabels(entry);
      const listenerKey = `${base.listener}\u0000${base.group}\u0000${base.port}`;
      const { records, omitted: count } = await selectServices(entry, state.maxServiceSeries, slicer);
      omitted.push(point(METRICS.serviceSeriesDropped, base, count));
      for (const rec of records) {
        if (slicer.due()) await slicer.yield();
        const { attrs, infoAttrs } = attributesOf(rec, base, listenerKey);
        up.push(point(METRICS.serviceUp, attrs, rec.state === 'up' ? 1 : 0));
        lastSeen.push(point(METRICS.serviceLastSeen, attrs, rec.lastSeenWallMs / 1000));
        info.push(point(METRICS.serviceInfo, infoAttrs, 1));
        if (rec.ageSeconds !== undefined) age.push(point(METRICS.serviceAge, attrs, rec.ageSeconds));
        lost.push(point(METRICS.serviceLost, attrs, rec.lost));
      }
    }
    const perService: [MetricDef, DataPoint<number>[]][] = [
      [METRICS.serviceSeriesDropped, omitted],
      [METRICS.serviceUp, up],
      [METRICS.serviceLastSeen, lastSeen],
      [METRICS.serviceInfo, info],
      [METRICS.serviceAge, age],
      [METRICS.serviceLost, lost],
    ];
    for (const [def, points] of perService) if (points.length > 0) metrics.push(metricData(def, points));

    return {
      // The reader keeps the MeterProvider's resource and takes only the scope metrics from here.
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [{ scope: { name: SCOPE_NAME, version: state.version }, metrics }],
      },
      errors: [],
    };
  }
}
