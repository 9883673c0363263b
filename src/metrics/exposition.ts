/**
 * The two exposition formats /metrics speaks: Prometheus text 0.0.4 (the default) and OpenMetrics 1.0.0, which
 * Prometheus asks for first in its Accept header. They differ in three places only, all handled here: a
 * counter's family is named without `_total` in HELP/TYPE (its samples keep it), HELP text escapes double
 * quotes too, and the body ends with `# EOF`.
 */
import { escapeLabelValue, formatValue } from './escape.js';
import type { MetricType } from './names.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

export const OPENMETRICS_EOF = '# EOF\n';

/** A family as HELP/TYPE metadata: prom-client's types included (histogram, summary). */
export interface FamilyMeta {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType | 'histogram' | 'summary';
}

export function familyHeader(def: FamilyMeta, format: ExpositionFormat): string {
  let help = def.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  let name = def.name;
  if (format === 'openmetrics') {
    help = help.replace(/"/g, '\\"');
    if (def.type === 'counter' && name.endsWith('_total')) name = name.slice(0, -'_total'.length);
  }
  return `# HELP ${name} ${help}\n# TYPE ${name} ${def.type}\n`;
}

/** One sample line; label values are escaped (and made well-formed) here. */
export function sampleLine(
  name: string,
  labels: Readonly<Record<string, string | number>>,
  value: number,
): string {
  let text = '';
  for (const key of Object.keys(labels)) {
    const v = labels[key];
    text += `${text ? ',' : ''}${key}="${escapeLabelValue(String(v))}"`;
  }
  return `${name}${text ? `{${text}}` : ''} ${formatValue(value)}\n`;
}

/** Media ranges of an Accept header with their q values. */
function mediaRanges(accept: string): { type: string; q: number }[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    return { type, q: Number.isFinite(weight) ? weight : 0 };
  });
}

/**
 * OpenMetrics when the client prefers it to the text format (Prometheus sends
 * `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`); otherwise text,
 * which every client that sends no Accept header, `*\/*` or `text/plain` gets.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let om = 0;
  let text = 0;
  for (const { type, q } of mediaRanges(accept)) {
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return om > 0 && om > text ? 'openmetrics' : 'text';
}

/** True when the client takes a gzip body: `gzip` with a q above 0, or else `*` with one. */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  const ranges = mediaRanges(acceptEncoding);
  const named = ranges.find((r) => r.type === 'gzip') ?? ranges.find((r) => r.type === '*');
  return named !== undefined && named.q > 0;
}
