/**
 * Every object the chart renders, in every ci/ scenario, validated against the Kubernetes API schemas
 * (kubernetes-models) and the prometheus-operator CRD schemas (@kubernetes-models/prometheus-operator), by
 * constructing it with its model class and calling validate().
 */

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HELM_AVAILABLE, HELM_MISSING, type K8sObject, render, SCENARIOS, scenarioFile } from './helm.js';
import { runCollect } from './process.js';

const PROMTOOL = '/usr/bin/promtool';

if (!HELM_AVAILABLE) console.warn(`skipping the chart schema tests: ${HELM_MISSING}`);

interface Validatable {
  validate(): void;
}
type Model = new (data: never) => Validatable;

const MODELS: Record<string, Model> = {
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'v1/ServiceAccount': ServiceAccount,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function validate(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}: add its model to this test`);
  new Model(o as never).validate();
}

describe.skipIf(!HELM_AVAILABLE)(
  'rendered objects against the Kubernetes and prometheus-operator schemas',
  () => {
    it.each(SCENARIOS)('ci/%s-values.yaml renders only valid objects', async (name) => {
      const objects = await render([scenarioFile(name)]);
      expect(objects.length).toBeGreaterThan(2);
      for (const o of objects) {
        expect(() => validate(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
      }
    });

    it('validates with every optional object on at once', async () => {
      const objects = await render(
        [scenarioFile('monitoring')],
        [
          'tls.enabled=true',
          'tls.secretName=agent-tls',
          'serviceMonitor.tlsConfig.insecureSkipVerify=true',
          'networkPolicy.enabled=true',
          'networkPolicy.from[0].ipBlock.cidr=10.0.0.0/8',
        ],
      );
      const kinds = new Set(objects.map((o) => o.kind));
      expect([...kinds].sort()).toEqual(
        [
          'ConfigMap',
          'DaemonSet',
          'NetworkPolicy',
          'PrometheusRule',
          'Service',
          'ServiceAccount',
          'ServiceMonitor',
        ].sort(),
      );
      for (const o of objects) expect(() => validate(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
    });

    // The operator hands spec.groups to Prometheus as a rules file: promtool must accept it as one, with the
    // chart's changes (labels added, alerts left out) applied.
    it.skipIf(!existsSync(PROMTOOL))('renders alert rules promtool accepts', async () => {
      const objects = await render([scenarioFile('monitoring')]);
      const rule = objects.find((o) => o.kind === 'PrometheusRule') as K8sObject & {
        spec: { groups: unknown[] };
      };
      const dir = mkdtempSync(join(tmpdir(), 'vm-rules-'));
      try {
        const file = join(dir, 'rules.yaml');
        writeFileSync(file, stringify({ groups: rule.spec.groups }));
        const res = await runCollect(PROMTOOL, ['check', 'rules', file]);
        expect(res.out).toMatch(/SUCCESS: \d+ rules found/);
        expect(res.code).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    // The validators are live: the same DaemonSet with a port written as text, or a ServiceMonitor with an
    // interval Prometheus can't parse, is refused.
    it('refuses a broken object of each schema family', async () => {
      const objects = await render([scenarioFile('monitoring')]);
      const ds = structuredClone(objects.find((o) => o.kind === 'DaemonSet')) as K8sObject & {
        spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
      };
      const port = ds.spec.template.spec.containers[0]?.ports[0];
      if (!port) throw new Error('the DaemonSet has no port');
      port.containerPort = 'http';
      expect(() => validate(ds)).toThrow(/containerPort must be integer/);

      const sm = structuredClone(objects.find((o) => o.kind === 'ServiceMonitor')) as K8sObject & {
        spec: { endpoints: { interval?: string }[] };
      };
      const endpoint = sm.spec.endpoints[0];
      if (!endpoint) throw new Error('the ServiceMonitor has no endpoint');
      endpoint.interval = 'every minute';
      expect(() => validate(sm)).toThrow(/interval must match pattern/);
    });
  },
);
