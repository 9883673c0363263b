import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NOT_ERROR_REASONS } from '../../src/discovery/drop-reasons.js';
import { METRICS } from '../../src/metrics/names.js';
import { checkExpressions, promtool } from './promtool.js';

const RULES_DIR = join(import.meta.dirname, '../../config/prometheus');
const RULES_FILE = join(RULES_DIR, 'alerts.yaml');
const RUNBOOK = join(import.meta.dirname, '../../docs/runbook.md');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

async function loadRules(): Promise<AlertRule[]> {
  const doc = parse(await readFile(RULES_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const res = await promtool(['check', 'rules', RULES_FILE]);
    expect(res.output).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });

  it('pass their promtool unit tests', async () => {
    const res = await promtool(['test', 'rules', 'alerts.test.yaml'], RULES_DIR);
    expect(res.output).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });

  it('follow the mixin conventions: prefix, for, severity, static summary, templated description, runbook', async () => {
    const rules = await loadRules();
    const runbook = await readFile(RUNBOOK, 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
    expect(rules.length).toBeGreaterThanOrEqual(9);
    for (const rule of rules) {
      expect(rule.alert, rule.alert).toMatch(/^VaultMulticast[A-Z][A-Za-z]+$/);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.summary, rule.alert).not.toContain('{{');
      expect(rule.annotations?.description, rule.alert).toContain('{{');
      const url = rule.annotations?.runbook_url ?? '';
      expect(url, rule.alert).toMatch(/\/docs\/runbook\.md#[a-z]+$/);
      const anchor = url.slice(url.indexOf('#') + 1);
      expect(anchor, rule.alert).toBe(rule.alert.toLowerCase());
      expect(anchors.has(anchor), `docs/runbook.md has a section for ${rule.alert}`).toBe(true);
    }
  });

  it('contain the alerts the issue asks for', async () => {
    const names = new Set((await loadRules()).map((r) => r.alert));
    for (const name of [
      'VaultMulticastServiceStale',
      'VaultMulticastHighErrorRate',
      'VaultMulticastGroupSilent',
      'VaultMulticastMembershipFailed',
      'VaultMulticastPublisherSendFailures',
      'VaultMulticastConfigReloadFailed',
      'VaultMulticastAgentDown',
      'VaultMulticastServiceConflict',
      'VaultMulticastServicePartiallyVisible',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it('count as errors exactly what getMetrics().errors and the dashboards count: all but NOT_ERROR_REASONS', async () => {
    const rule = (await loadRules()).find((r) => r.alert === 'VaultMulticastHighErrorRate');
    const excluded = /reason!~"([^"]+)"/.exec(rule?.expr ?? '')?.[1]?.split('|') ?? [];
    expect(new Set(excluded)).toEqual(new Set(NOT_ERROR_REASONS));
  });

  it('use only metric names the agent exports', async () => {
    const text = await readFile(RULES_FILE, 'utf8');
    const known = new Set(Object.values(METRICS).map((m) => m.name));
    const used = new Set(text.match(/\bvault_multicast_[a-z_]+/g) ?? []);
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(known.has(name), `${name} is in METRICS`).toBe(true);
  });

  it('have unit tests where each alert fires and where it does not', async () => {
    const tests = parse(await readFile(join(RULES_DIR, 'alerts.test.yaml'), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of await loadRules()) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${rule.alert} has a firing case`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert} has a silent case`,
      ).toBe(true);
    }
  });

  it('load with the example Prometheus configuration, whose agent job the rules select and whose SD job they do not', async () => {
    const res = await promtool(['check', 'config', 'prometheus.example.yaml'], RULES_DIR);
    expect(res.output).toContain('SUCCESS: 1 rule files found');
    expect(res.code).toBe(0);
    const config = parse(await readFile(join(RULES_DIR, 'prometheus.example.yaml'), 'utf8')) as {
      scrape_configs: { job_name: string }[];
    };
    const selector = /job=~"([^"]+)"/.exec(await readFile(RULES_FILE, 'utf8'))?.[1] ?? '';
    const selects = (job: string) => new RegExp(`^(?:${selector})$`).test(job);
    const jobs = config.scrape_configs.map((c) => c.job_name);
    expect(jobs.filter(selects)).toEqual(['vault-multicast']);
    expect(jobs).toContain('multicast-discovered');
  });

  it('parse-check helper rejects a broken expression (so the dashboard check can fail)', async () => {
    const bad = await checkExpressions([{ name: 'broken', expr: 'sum by (job (up)' }]);
    expect(bad.code).not.toBe(0);
    const good = await checkExpressions([{ name: 'fine', expr: 'sum by (job) (up)' }]);
    expect(good.code).toBe(0);
  });
});
