/**
 * What both dashboards share: time settings, tags, cross-links, and sections laid out as an expanded row
 * followed by its panels at the top level (Grafana reads the panels of an expanded row from the top level; only
 * collapsed rows carry their panels inside).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from './panels.js';

export const TAG = 'vault-multicast';

export interface Section {
  title: string;
  panels: cog.Builder<dashboard.Panel>[];
}

/** Firing alerts of the project's rules, drawn on every graph of the dashboard. */
export const ALERTS_ANNOTATION_EXPR = 'ALERTS{alertname=~"VaultMulticast.*",alertstate="firing"}';

export function newDashboard(title: string, uid: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([TAG])
    .editable()
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .type('dashboard')
        .builtIn(1)
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)'),
    )
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('Vault Multicast alerts')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('red')
        .expr(ALERTS_ANNOTATION_EXPR),
    )
    .link(
      new dashboard.DashboardLinkBuilder('Vault Multicast')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

export function withSections(builder: dashboard.DashboardBuilder, sections: Section[]): dashboard.Dashboard {
  for (const section of sections) {
    builder.withRow(new dashboard.RowBuilder(section.title));
    for (const panel of section.panels) builder.withPanel(panel);
  }
  const built = builder.build();
  // The Prometheus annotation's display fields are not in the SDK's generic AnnotationQuery type.
  for (const a of built.annotations?.list ?? []) {
    if (a.expr === ALERTS_ANNOTATION_EXPR) {
      Object.assign(a, {
        step: '30s',
        titleFormat: '{{alertname}}',
        textFormat: '{{severity}}: {{instance}}',
      });
    }
  }
  // Stable ids keep the generated JSON byte-for-byte reproducible and links to a panel (viewPanel=N) valid.
  (built.panels ?? []).forEach((panel, i) => {
    panel.id = i + 1;
  });
  return built;
}
