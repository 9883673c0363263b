/**
 * Panel factories with the conventions every panel here follows: the `$datasource` variable, a unit, a
 * description, and Prometheus queries that are instant for tables and ranges for graphs.
 */
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
  const b = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(layout.w)
    .height(layout.h)
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
    )
    .targets(queries.map((q, i) => target(q, refId(i), false)));
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
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(layout.w)
    .height(layout.h)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets([target(query, 'A', false)]);
}

export function stateTimeline(
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  mappings: dashboard.ValueMapping[],
  layout: Layout,
): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(layout.w)
    .height(layout.h)
    .mappings(mappings)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .mergeValues(true)
    .showValue(common.VisibilityMode.Never)
    .rowHeight(0.8)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false))
    .targets(queries.map((q, i) => target(q, refId(i), false)));
}

export function tablePanel(
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  layout: Layout,
): table.PanelBuilder {
  return new table.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(layout.w)
    .height(layout.h)
    .cellHeight(common.TableCellHeight.Sm)
    .targets(queries.map((q, i) => target(q, refId(i), true)));
}
