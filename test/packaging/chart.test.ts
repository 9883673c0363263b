/**
 * The Helm chart through the real helm: lint --strict and template for every ci/ scenario, the helm-unittest
 * suites, values the schema or the templates must refuse, and the checksum that rolls pods on a config change.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHART,
  findObject,
  HELM_AVAILABLE,
  HELM_MISSING,
  HELM_UNITTEST,
  helm,
  KUBE_VERSION,
  parseManifests,
  render,
  run,
  SCENARIOS,
  scenarioFile,
} from './helm.js';

if (!HELM_AVAILABLE) console.warn(`skipping the Helm chart tests: ${HELM_MISSING}`);

/** What each scenario must render, so a scenario that silently stops exercising its feature fails. */
const EXPECTED_KINDS: Record<string, string[]> = {
  default: ['ServiceAccount', 'ConfigMap', 'Service', 'DaemonSet'],
  deployment: ['ServiceAccount', 'ConfigMap', 'Service', 'Deployment'],
  monitoring: ['ServiceAccount', 'ConfigMap', 'Service', 'DaemonSet', 'ServiceMonitor', 'PrometheusRule'],
  auth: ['ServiceAccount', 'Secret', 'ConfigMap', 'Service', 'DaemonSet', 'PodMonitor'],
  ipv6: ['ServiceAccount', 'ConfigMap', 'Service', 'DaemonSet'],
};

describe.skipIf(!HELM_AVAILABLE)('helm chart', () => {
  it('has the scenarios the CI relies on', () => {
    expect(SCENARIOS).toEqual(Object.keys(EXPECTED_KINDS).sort());
  });

  it.each(SCENARIOS)('passes helm lint --strict with ci/%s-values.yaml', async (name) => {
    const res = await helm([
      'lint',
      '--strict',
      CHART,
      '-f',
      scenarioFile(name),
      '--kube-version',
      KUBE_VERSION,
    ]);
    expect(res.stderr + res.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(res.code).toBe(0);
  });

  it.each(SCENARIOS)('renders ci/%s-values.yaml into the expected objects', async (name) => {
    const objects = await render([scenarioFile(name)]);
    const kinds = objects.map((o) => o.kind);
    for (const kind of EXPECTED_KINDS[name] ?? []) expect(kinds).toContain(kind);
    if (name !== 'deployment') expect(kinds).not.toContain('Deployment');
    for (const o of objects) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('lan');
      expect(o.metadata.labels?.['app.kubernetes.io/name']).toBe('vault-multicast');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('vm');
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    }
  });

  it('renders the dashboards as ConfigMaps for the Grafana sidecar in the monitoring scenario', async () => {
    const objects = await render([scenarioFile('monitoring')]);
    const dashboards = objects.filter((o) => o.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.map((o) => o.metadata.name).sort()).toEqual([
      'vm-vault-multicast-dashboard-overview',
      'vm-vault-multicast-dashboard-service',
    ]);
    for (const cm of dashboards) {
      const data = cm.data as Record<string, string>;
      const [file, json] = Object.entries(data)[0] ?? [];
      expect(file).toMatch(/\.json$/);
      expect(JSON.parse(json ?? '').uid).toBeTruthy();
    }
  });

  // The README's commands as typed: scripts/install-helm.sh builds helm with helm's own ldflags, so it knows its
  // version and assumes a current Kubernetes rather than v1.20, which the chart's kubeVersion refuses.
  it('renders and packages as the README types it, with no --kube-version', async () => {
    const version = await helm(['version', '--short']);
    expect(version.stdout).toMatch(/^v3\.\d+\.\d+/);
    const rendered = await helm(['template', 'vault-multicast', CHART]);
    expect(rendered.stderr).toBe('');
    expect(parseManifests(rendered.stdout).map((o) => o.kind)).toContain('DaemonSet');
    const dest = mkdtempSync(join(tmpdir(), 'vm-chart-'));
    try {
      const packaged = await helm(['package', CHART, '--destination', dest]);
      expect(packaged.code, packaged.stderr).toBe(0);
      const chartVersion = /^version: (\S+)$/m.exec(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'))?.[1];
      expect(readdirSync(dest)).toEqual([`vault-multicast-${chartVersion}.tgz`]);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('passes its helm-unittest suites', async () => {
    const res = await run(HELM_UNITTEST, [CHART]);
    expect(res.stdout, res.stdout + res.stderr).toMatch(/Test Suites:\s+\d+ passed, \d+ total/);
    expect(res.stdout).not.toMatch(/\bfailed\b/);
    expect(res.code).toBe(0);
  });

  it('changes the config checksum, and only it, when the configuration changes', async () => {
    const checksum = async (set: string[]) => {
      const pod = findObject(await render([], set), 'DaemonSet').spec as {
        template: { metadata: { annotations: Record<string, string> } };
      };
      return pod.template.metadata.annotations['checksum/config'];
    };
    const base = await checksum([]);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum(['resources.limits.memory=512Mi'])).toBe(base);
    expect(await checksum(['config.log.level=debug'])).not.toBe(base);
    expect(await checksum(['port=9500'])).not.toBe(base);
  });

  // Values the schema refuses, with the path helm names: `helm lint --strict` and `helm template` both fail.
  const SCHEMA_REFUSALS: [string, string[], RegExp][] = [
    ['a port out of range', ['port=70000'], /\/port/],
    ['an unknown workload kind', ['kind=StatefulSet'], /\/kind/],
    ['an unknown top-level value (a typo)', ['hostNetwok=true'], /additional properties 'hostNetwok'/],
    ['an interface name the kernel cannot hold', ['lanInterface=a-very-long-ifname0'], /\/lanInterface/],
    ['an unknown ipFamily', ['ipFamily=IPv5'], /\/ipFamily/],
    ['a listen address in config (the port drives it)', ['config.http.listen=0.0.0.0:1'], /\/config\/http/],
    ['a signing mode the agent does not know', ['signing.mode=optional'], /\/signing\/mode/],
    ['a signing key id that is not a Secret key', ['signing.keys[0].id=a/b'], /\/signing\/keys\/0\/id/],
    ['a non-numeric grace period', ['terminationGracePeriodSeconds=soon'], /terminationGracePeriodSeconds/],
    ['a malformed scrape interval', ['serviceMonitor.interval=30 seconds'], /\/serviceMonitor\/interval/],
  ];

  it.each(SCHEMA_REFUSALS)(
    'refuses %s in helm lint --strict and helm template',
    async (_what, set, message) => {
      const setArgs = set.flatMap((s) => ['--set', s]);
      const tpl = await helm(['template', 'vm', CHART, '--kube-version', KUBE_VERSION, ...setArgs]);
      expect(tpl.code).not.toBe(0);
      expect(tpl.stderr).toMatch(message);
      const lint = await helm(['lint', '--strict', CHART, '--kube-version', KUBE_VERSION, ...setArgs]);
      expect(lint.code).not.toBe(0);
      expect(lint.stdout + lint.stderr).toMatch(message);
    },
  );

  // Combinations that are each valid alone but could not run; the templates refuse them with the value to
  // change. helm lint only reports a template's refusal (as INFO), so template/install is where they fail.
  const TEMPLATE_REFUSALS: [string, string[], RegExp][] = [
    [
      'admin endpoints without auth',
      ['config.http.enableAdmin=true'],
      /enableReload\/enableAdmin need auth\.enabled/,
    ],
    ['auth without a credential', ['auth.enabled=true'], /needs auth\.token or auth\.basic\.password/],
    [
      'both a ServiceMonitor and a PodMonitor',
      ['serviceMonitor.enabled=true', 'podMonitor.enabled=true'],
      /not both/,
    ],
    [
      'a short signing key',
      ['signing.mode=required', 'signing.keys[0].id=k', 'signing.keys[0].key=short'],
      /at least 32 bytes/,
    ],
    ['TLS without a certificate Secret', ['tls.enabled=true'], /tls\.secretName/],
    [
      'two host-network Deployment replicas that could land on one node',
      ['kind=Deployment', 'replicaCount=2'],
      /needs affinity/,
    ],
  ];

  it.each(TEMPLATE_REFUSALS)('refuses %s in helm template', async (_what, set, message) => {
    const setArgs = set.flatMap((s) => ['--set', s]);
    const tpl = await helm(['template', 'vm', CHART, '--kube-version', KUBE_VERSION, ...setArgs]);
    expect(tpl.code).not.toBe(0);
    expect(tpl.stderr).toMatch(message);
  });
});
