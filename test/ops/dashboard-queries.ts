/**
 * Reads the PromQL out of generated dashboards and turns it into something Prometheus can run: Grafana's
 * variables replaced by concrete values. Used by the parse check (promtool) and the end-to-end test (a real
 * Prometheus answering every panel's query).
 */
export interface DashboardQuery {
  dashboard: string;
  /** Panel title, or "variable <name>" / "annotation <name>". */
  where: string;
  expr: string;
  /** Tables ask for one instant; graphs for a range. */
  instant: boolean;
}

interface Target {
  expr?: string;
  instant?: boolean;
}
export interface Panel {
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}
export interface DashboardJson {
  title: string;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: unknown }[] };
  annotations?: { list?: { name: string; expr?: string }[] };
}

export function allPanels(d: DashboardJson): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every query a dashboard sends to Prometheus: panel targets, label_values() selectors, annotations. */
export function dashboardQueries(d: DashboardJson): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const panel of allPanels(d)) {
    for (const t of panel.targets ?? []) {
      if (t.expr)
        out.push({
          dashboard: d.title,
          where: panel.title ?? panel.type,
          expr: t.expr,
          instant: !!t.instant,
        });
    }
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query' || typeof v.query !== 'string') continue;
    const m = /^label_values\((.*),\s*\w+\)$/s.exec(v.query);
    if (!m?.[1]) throw new Error(`variable ${v.name}: unexpected query ${v.query}`);
    out.push({ dashboard: d.title, where: `variable ${v.name}`, expr: m[1], instant: true });
  }
  for (const a of d.annotations?.list ?? []) {
    if (a.expr) out.push({ dashboard: d.title, where: `annotation ${a.name}`, expr: a.expr, instant: false });
  }
  return out;
}

/** `${name}`, `${name:format}` or `$name`, as Grafana reads them. */
const VARIABLE = /\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g;

/** Grafana's built-in range variables, as Grafana would fill them for a 1 h view scraped every 15 s. */
const BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

/**
 * Replaces `$name`, `${name}` and `${name:regex}` with values as Grafana would (values win over the built-ins;
 * regex matchers get plain values verbatim, so ".*" means All). Throws on a variable without a value: a typo in
 * a variable name would otherwise reach Prometheus as a literal.
 */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(
    VARIABLE,
    (_, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
      const key = (braced ?? bare) as string;
      const value = values[key] ?? BUILTINS[key];
      if (value === undefined) throw new Error(`no value for $${key} in ${expr}`);
      return format === 'regex' ? value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : value;
    },
  );
}

/** The variables an expression uses, by name. */
export function variablesOf(expr: string): string[] {
  return [...expr.matchAll(VARIABLE)].map((m) => (m[1] ?? m[3]) as string);
}
