/** The SDK's MetricData shape for one of the agent's families (descriptor, temporality, kind). */
import { type HrTime, ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { MetricDef } from './names.js';
import { otelName, otelUnit } from './otel-names.js';

export function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** Seconds are doubles; everything else the agent counts is a whole number. */
export function valueType(def: MetricDef): ValueType {
  return /_seconds(_total)?$/.test(def.name) ? ValueType.DOUBLE : ValueType.INT;
}

export function metricData(def: MetricDef, points: DataPoint<number>[]): MetricData {
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
