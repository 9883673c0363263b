/**
 * OpenTelemetry names for the metrics of names.ts. The rule is the one the OpenTelemetry Collector and
 * Prometheus' OTLP receiver apply in reverse: a counter's OTel name is the Prometheus name without `_total`
 * (a monotonic Sum gains `_total` back on the way into Prometheus), a gauge keeps its name, and the unit is
 * given only where the name already ends in it (`By` → `_bytes`, `s` → `_seconds`), so translation adds no
 * second suffix. Dimensionless metrics carry no unit: a unit of "1" would make Prometheus append `_ratio`.
 */
import type { MetricDef } from './names.js';

export function otelName(def: MetricDef): string {
  return def.type === 'counter' ? def.name.replace(/_total$/, '') : def.name;
}

export function otelUnit(def: MetricDef): string {
  if (/_bytes(_total)?$/.test(def.name)) return 'By';
  if (/_seconds(_total)?$/.test(def.name)) return 's';
  return '';
}
