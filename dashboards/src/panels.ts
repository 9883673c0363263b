/**
 * Panel factories with the conventions every panel here follows: the `$datasource` variable, a unit, a
 * description, and Prometheus queries that are instant for tables and ranges for graphs.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, resolved by Grafana
export const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Layout {
  w: number;
  h: number;
}

export interface Query {
  expr: string;
  legend?: string;
}

function target(q: Query, refId: string, instant: boolean): prometheus.DataqueryBuilder {
  const b = new prometheus.DataqueryBuilder().expr(q.expr).refId(refId).datasource(DATASOURCE);
  if (instant) b.instant().format(prometheus.PromQueryFormat.Table);
  else b.range().legendFormat(q.legend ?? '__auto');
  return b;
}

function refId(i: number): string {
  return String.fromCharCode(65 + i);
}

/** The builder methods every panel type shares (they all return the builder itself). */
interface PanelBasics<B> {
  title(title: string): B;
  description(description: string): B;
  datasource(datasource: dashboard.DataSourceRef): B;
  unit(unit: string): B;
  span(w: number): B;
  height(h: number): B;
  targets(targets: cog.Builder<cog.Dataquery>[]): B;
}

/** What every panel here has: a title, a description, the $datasource, a unit, a size and its queries. */
function basics<B extends PanelBasics<B>>(
  builder: B,
  title: string,
  description: string,
  unit: string,
  layout: Layout,
  queries: Query[],
  instant: boolean,
): B {
  return builder
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(layout.w)
    .height(layout.h)
    .targets(queries.map((q, i) => target(q, refId(i), instant)));
}

/** A value mapping from numbers to a word and a colour, e.g. 1 → up (green), 0 → stale (red). */
export function states(map: Record<number, [text: string, color: string]>): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(map).forEach(([value, [text, color]], index) => {
    options[value] = { text, color, index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

export function thresholds(
  ...steps: [value: number | null, color: string][]
): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));
}

export function timeSeries(
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  layout: Layout,
  opts: { signed?: boolean } = {},
): timeseries.PanelBuilder {
  const b = basics(new timeseries.PanelBuilder(), title, description, unit, layout, queries, false)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  // Counts and rates start at zero; only signed quantities (clock skew) may go below.
  if (!opts.signed) b.min(0);
  return b;
}

export function statPanel(
  title: string,
  description: string,
  unit: string,
  query: Query,
  layout: Layout,
): stat.PanelBuilder {
  return basics(new stat.PanelBuilder(), title, description, unit, layout, [query], false)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export function stateTimeline(
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  mappings: dashboard.ValueMapping[],
  layout: Layout,
): statetimeline.PanelBuilder {
  return basics(new statetimeline.PanelBuilder(), title, description, unit, layout, queries, false)
    .mappings(mappings)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .mergeValues(true)
    .showValue(common.VisibilityMode.Never)
    .rowHeight(0.8)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false));
}

export function tablePanel(
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  layout: Layout,
): table.PanelBuilder {
  return basics(new table.PanelBuilder(), title, description, unit, layout, queries, true).cellHeight(
    common.TableCellHeight.Sm,
  );
}
