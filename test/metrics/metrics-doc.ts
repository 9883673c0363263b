/**
 * The generated parts of docs/metrics.md, built from the tables the exporters use (METRICS, DROP_REASONS,
 * the OTel name rule), so the document cannot drift from what /metrics and OTLP send. The prose around them is
 * written by hand; only the blocks between the GENERATED markers are replaced.
 */

import { DROP_REASONS, type DropReason, NOT_ERROR_REASONS } from '../../src/discovery/drop-reasons.js';
import { IGNORED_FIELDS, type IgnoredField } from '../../src/discovery/ignored-fields.js';
import { METRICS, type MetricDef } from '../../src/metrics/names.js';
import { otelName, otelUnit } from '../../src/metrics/otel-names.js';
import { SERVICE_FAMILIES } from '../../src/metrics/samples.js';

/** What each drop reason means to an operator. Typed by DropReason: a new reason fails to compile here. */
export const DROP_REASON_MEANING: Record<DropReason, string> = {
  empty: 'Zero-length datagram.',
  oversize:
    "Larger than the listener's `maxDatagramBytes` (default 1400, the original's read size); dropped before parsing.",
  not_utf8: 'Not valid UTF-8 (decoded strictly; nothing is replaced silently).',
  not_json: 'Not parseable as JSON.',
  too_deep: 'Objects or arrays nested deeper than 32 levels.',
  not_object: 'Valid JSON whose top level is not an object (a string, number, array...).',
  missing_type:
    'A JSON object that is not a service: no `type` (or one that is null, an object or an array). Still delivered to `message` handlers and the callback, as the original does.',
  missing_addr:
    'A JSON object that is not a service: a `type` but neither `addr` nor `ip`. Still delivered to `message` handlers and the callback.',
  bad_value:
    'A safety limit on text: `type`, `name`, `version` or an opaque address longer than 256 characters. (Any other unusable value is ignored and counted in `vault_multicast_ignored_fields_total`.)',
  source_denied: 'Sender outside `security.allowSources`, or off-link while `security.onLinkOnly` is on.',
  rate_limited_source: 'Over the per-source rate limit (`security.rateLimit.perSource`).',
  rate_limited_global: 'Over the listener-wide rate limit (`security.rateLimit.global`).',
  duplicate: 'An identical datagram from the same source within `security.duplicateWindowMs`.',
  signature_missing: 'Unsigned while signing mode is `required`.',
  signature_invalid: 'A malformed signature, or one that does not verify with the named key.',
  unknown_key: 'Signed with a key id this listener does not hold.',
  replayed: 'A correctly signed announcement seen before, or signed further from now than the replay window.',
  filtered: "Decoded, but the type does not contain the listener's `typeFilter`.",
  service_limit: 'A new service while the registry already holds `maxServices` services that are up.',
};

const esc = (s: string) => s.replace(/\|/g, '\\|');
const code = (s: string) => `\`${s}\``;

function labelsOf(def: MetricDef): string {
  return def.labels.length ? def.labels.map(code).join(', ') : '—';
}

export function metricsTable(): string {
  const perService = new Set<string>(SERVICE_FAMILIES.map((k) => METRICS[k].name));
  const rows = Object.values(METRICS).map(
    (d: MetricDef) =>
      `| ${code(d.name)} | ${d.type} | ${labelsOf(d)} | ${esc(d.help)}${perService.has(d.name) && d.name !== METRICS.serviceSeriesDropped.name ? ' *(per service, capped)*' : ''} |`,
  );
  return ['| Name | Type | Labels | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function dropReasonsTable(): string {
  const notError = new Set<DropReason>(NOT_ERROR_REASONS);
  const rows = DROP_REASONS.map(
    (r) => `| ${code(r)} | ${notError.has(r) ? 'no' : 'yes'} | ${esc(DROP_REASON_MEANING[r])} |`,
  );
  return ['| `reason` | Error | Dropped because |', '|---|---|---|', ...rows].join('\n');
}

/** What an ignored field means. Typed by IgnoredField: a new field fails to compile here. */
export const IGNORED_FIELD_MEANING: Record<IgnoredField, string> = {
  name: '`name` is an object or an array: the service is named by its `type`.',
  version: '`version` is an object or array: the service shows no version.',
  port: 'The separate `port` field (next to an `ip` or a host without port) is not 1..65535: the address has no port.',
  ttl: '`ttl` is not a positive number (e.g. the string `"60"`): the listener\'s `serviceTimeout` applies.',
  seq: '`seq` is not a non-negative integer: no loss counting for that announcement.',
  timestamp: '`timestamp` is not a number (e.g. an ISO date): no announcement age.',
  goodbye: '`goodbye` is not true or false: not a goodbye.',
  metrics_port: '`metrics_port` is not 1..65535: no HTTP SD target.',
};

export function ignoredFieldsTable(): string {
  const rows = IGNORED_FIELDS.map((f) => `| ${code(f)} | ${esc(IGNORED_FIELD_MEANING[f])} |`);
  return ['| `field` | Ignored when |', '|---|---|', ...rows].join('\n');
}

export function otelTable(): string {
  const rows = Object.values(METRICS).map((d: MetricDef) => {
    const kind = d.type === 'counter' ? 'Sum (monotonic, cumulative)' : 'Gauge';
    return `| ${code(otelName(d))} | ${kind} | ${otelUnit(d) ? code(otelUnit(d)) : '—'} | ${code(d.name)} |`;
  });
  return ['| OpenTelemetry name | Kind | Unit | Prometheus name |', '|---|---|---|---|', ...rows].join('\n');
}

export const GENERATED: Record<string, () => string> = {
  metrics: metricsTable,
  'drop-reasons': dropReasonsTable,
  'ignored-fields': ignoredFieldsTable,
  otel: otelTable,
};

/** The document with every generated block rewritten; throws when a marker is missing. */
export function regenerate(doc: string): string {
  let out = doc;
  for (const [name, build] of Object.entries(GENERATED)) {
    const begin = `<!-- BEGIN GENERATED: ${name} -->`;
    const end = `<!-- END GENERATED: ${name} -->`;
    const i = out.indexOf(begin);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`docs/metrics.md lacks the markers of the "${name}" block`);
    out = `${out.slice(0, i + begin.length)}\n${build()}\n${out.slice(j)}`;
  }
  return out;
}
