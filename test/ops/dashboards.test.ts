import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS, render, writeDashboards } from '../../dashboards/src/build.js';
import { DATASOURCE } from '../../dashboards/src/panels.js';
import { METRICS } from '../../src/metrics/names.js';
import {
  allPanels,
  type DashboardJson,
  dashboardQueries,
  substitute,
  variablesOf,
} from './dashboard-queries.js';
import { checkExpressions } from './promtool.js';

const ROOT = join(import.meta.dirname, '../..');
const SRC = join(ROOT, 'dashboards/src');

/** Plausible values for the parse check; "All" is ".*". */
const SAMPLE_VALUES = {
  job: 'vault-multicast',
  instance: '.*',
  group: '224.1.1.1',
  service_type: 'VaultLibrary',
  service_name: 'vault-1',
  address: '.*',
};

const dashboards = DASHBOARDS.map(({ file, build }) => ({
  file,
  json: JSON.parse(render(build())) as DashboardJson,
}));

describe('dashboards', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vm-dashboards-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are committed exactly as the generator writes them (run `npm run dashboards` after a change)', async () => {
    await writeDashboards(dir);
    const generated = (await readdir(dir)).sort();
    expect(generated).toEqual(DASHBOARDS.map((d) => d.file).sort());
    for (const file of generated) {
      const fresh = await readFile(join(dir, file), 'utf8');
      const committed = await readFile(join(ROOT, 'dashboards', file), 'utf8');
      expect(committed, `dashboards/${file} is stale`).toBe(fresh);
    }
  });

  it('take metric names only from METRICS, never spelled out in the generator', async () => {
    for (const file of await readdir(SRC)) {
      const text = await readFile(join(SRC, file), 'utf8');
      expect(text, file).not.toMatch(/vault_multicast_[a-z]/);
    }
    const known = new Set(Object.values(METRICS).map((m) => m.name));
    for (const { file, json } of dashboards) {
      const used = JSON.stringify(json).match(/vault_multicast_[a-z_]+/g) ?? [];
      expect(used.length, file).toBeGreaterThan(5);
      for (const name of used) expect(known.has(name), `${file}: ${name}`).toBe(true);
    }
  });

  it('have the datasource, job, instance, group and service type variables', () => {
    for (const { file, json } of dashboards) {
      const vars = (json.templating?.list ?? []).map((v) => v.name);
      for (const v of ['datasource', 'job', 'instance', 'group', 'service_type']) {
        expect(vars, `${file} has $${v}`).toContain(v);
      }
    }
  });

  it('give every panel a unit, a description and the $datasource', () => {
    for (const { file, json } of dashboards) {
      const panels = allPanels(json).filter((p) => p.type !== 'row');
      expect(panels.length, file).toBeGreaterThan(8);
      for (const p of panels) {
        const where = `${file}: ${p.title}`;
        expect(p.fieldConfig?.defaults?.unit, where).toBeTruthy();
        expect(p.description, where).toBeTruthy();
        expect(p.datasource?.uid, where).toBe(DATASOURCE.uid);
        expect(p.targets?.length, where).toBeGreaterThan(0);
      }
    }
  });

  it('use $__rate_interval in every rate() and only known variables', () => {
    for (const { file, json } of dashboards) {
      const defined = new Set((json.templating?.list ?? []).map((v) => v.name));
      for (const q of dashboardQueries(json)) {
        for (const m of q.expr.matchAll(/\brate\([^[]*\[([^\]]+)\]/g)) {
          expect(m[1], `${file}: ${q.where}`).toBe('$__rate_interval');
        }
        for (const v of variablesOf(q.expr)) {
          expect(v.startsWith('__') || defined.has(v), `${file}: ${q.where} uses undefined $${v}`).toBe(true);
        }
      }
    }
  });

  it('contain only PromQL that promtool parses', async () => {
    const exprs = dashboards.flatMap(({ json }) =>
      dashboardQueries(json).map((q) => ({
        name: `${json.title} ${q.where}`,
        expr: substitute(q.expr, SAMPLE_VALUES),
      })),
    );
    expect(exprs.length).toBeGreaterThan(30);
    const res = await checkExpressions(exprs);
    expect(res.output).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });
});

describe('dashboard variable substitution (used by the parse check and the end-to-end test)', () => {
  it('fills plain, braced and regex-formatted variables as Grafana does, and refuses unknown ones', () => {
    const values = { job: 'vault-multicast', service_name: 'db-1.example (eu)' };
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
      substitute('rate(x{job=~"$job",service_name=~"${service_name:regex}"}[$__rate_interval])', values),
    ).toBe('rate(x{job=~"vault-multicast",service_name=~"db-1\\.example \\(eu\\)"}[1m])');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
    expect(substitute('x[${__range}]', { __range: '5m' })).toBe('x[5m]');
    expect(() => substitute('x{a="$nope"}', values)).toThrow(/\$nope/);
  });
});
