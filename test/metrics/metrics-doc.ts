/**
 * The generated parts of docs/metrics.md, built from the tables the exporters use (METRICS, DROP_REASONS,
 * the OTel name rule), so the document cannot drift from what /metrics and OTLP send. The prose around them is
 * written by hand; only the blocks between the GENERATED markers are replaced.
 */
import { METRICS, type MetricDef } from '../../src/agent/metrics/names.js';
import { otelName, otelUnit } from '../../src/agent/metrics/otel-names.js';
import { SERVICE_FAMILIES } from '../../src/agent/metrics/samples.js';
import { DROP_REASONS, type DropReason } from '../../src/drop-reasons.js';

/** What each drop reason means to an operator. Typed by DropReason: a new reason fails to compile here. */
export const DROP_REASON_MEANING: Record<DropReason, string> = {
  empty: 'Zero-length datagram.',
  oversize:
    "Larger than the listener's `maxDatagramBytes` (default 1400, the original's read size); dropped before parsing.",
  not_utf8: 'Not valid UTF-8 (decoded strictly; nothing is replaced silently).',
  not_json: 'Not parseable as JSON.',
  too_deep: 'Objects or arrays nested deeper than 32 levels.',
  not_object: 'Valid JSON whose top level is not an object (a string, number, array...).',
  missing_type: 'No `type` key.',
  missing_addr: 'Neither `addr` nor `ip` is present.',
  bad_value:
    'A known key with an unusable value: an address that is not host:port, [v6]:port, [host, port] or ip+port; a port outside 1..65535; `type`, `name` or `version` that is not a string of at most 256 characters; a non-numeric timestamp; a ttl that is not a positive number.',
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
  const rows = DROP_REASONS.map((r) => `| ${code(r)} | ${esc(DROP_REASON_MEANING[r])} |`);
  return ['| `reason` | Dropped because |', '|---|---|', ...rows].join('\n');
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
