/**
 * The agent configuration the chart renders into its ConfigMap is one the agent accepts: for every ci/
 * scenario, `vault-multicast agent --check` passes with exactly the environment the DaemonSet gives the
 * container (downward-API values filled in as the kubelet would, $(VAR) references expanded) and the files of
 * the chart's Secret at the path the pod mounts them. The default scenario's configuration then runs for real
 * in a loopback namespace until /-/ready answers 200.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isScalar, parseDocument, Scalar, visit } from 'yaml';
import { createLoopbackHost, NETNS_AVAILABLE, waitFor } from '../harness/netns.js';
import { HELM_AVAILABLE, HELM_MISSING, type K8sObject, render, SCENARIOS, scenarioFile } from './helm.js';
import { type Outcome, runCollect } from './process.js';

if (!HELM_AVAILABLE) console.warn(`skipping the chart configuration tests: ${HELM_MISSING}`);

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'dist/src/cli/main.js');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Container {
  args: string[];
  env: EnvVar[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}

/** What the downward API would report for one pod of the scenario. */
function fieldValues(ipv6: boolean): Record<string, string> {
  const ip = ipv6 ? 'fd00::11' : '10.0.0.11';
  return {
    'spec.nodeName': 'node-a',
    'metadata.name': 'vm-abcde',
    'metadata.namespace': 'lan',
    'status.podIP': ip,
    'status.hostIP': ip,
  };
}

/** The container's environment as the kubelet builds it: fieldRefs resolved, $(VAR) from earlier entries. */
function containerEnv(env: EnvVar[], fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.valueFrom?.fieldRef) {
      const v = fields[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined) throw new Error(`no downward-API value for ${e.valueFrom.fieldRef.fieldPath}`);
      out[e.name] = v;
    } else {
      out[e.name] = (e.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => out[n] ?? m);
    }
  }
  return out;
}

interface Prepared {
  dir: string;
  configPath: string;
  env: Record<string, string>;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Lays the pod's files out under a temp dir and returns the config path and environment to run with. */
function preparePod(objects: K8sObject[], ipv6: boolean, fields = fieldValues(ipv6)): Prepared {
  const workload = objects.find((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment') as
    | (K8sObject & { spec: { template: { spec: PodSpec } } })
    | undefined;
  if (!workload) throw new Error('no DaemonSet or Deployment rendered');
  const pod = workload.spec.template.spec;
  const container = pod.containers[0];
  if (!container) throw new Error('no container');
  const dir = mkdtempSync(join(tmpdir(), 'vm-chart-'));
  dirs.push(dir);
  const env = containerEnv(container.env, fields);

  // The config file must be where the container's args look for it: the ConfigMap's mount plus its key.
  const configMount = container.volumeMounts.find((m) => m.name === 'config');
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && !o.metadata.labels?.grafana_dashboard) as
    | (K8sObject & { data: Record<string, string> })
    | undefined;
  if (!configMount || !configMap) throw new Error('no config mount or ConfigMap');
  const configVolume = pod.volumes.find((v) => v.name === 'config');
  expect(configVolume?.configMap?.name).toBe(configMap.metadata.name);
  const [arg0, arg1, configArg] = container.args;
  expect([arg0, arg1]).toEqual(['agent', '--config']);
  const [key, text] = Object.entries(configMap.data)[0] ?? [];
  expect(configArg).toBe(`${configMount.mountPath}/${key}`);
  const configPath = join(dir, `${key}`);
  writeFileSync(configPath, text ?? '');

  // The Secret's files, at the path SECRETS_DIR names (the mount path of the secrets volume in the pod).
  const secretMount = container.volumeMounts.find((m) => m.name === 'secrets');
  const secret = objects.find((o) => o.kind === 'Secret') as
    | (K8sObject & { data: Record<string, string> })
    | undefined;
  if (secretMount) {
    expect(env.SECRETS_DIR).toBe(secretMount.mountPath);
    if (!secret) throw new Error('the pod mounts a Secret the chart did not render');
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir);
    for (const [name, b64] of Object.entries(secret.data)) {
      writeFileSync(join(secretsDir, name), Buffer.from(b64, 'base64'), { mode: 0o440 });
    }
    env.SECRETS_DIR = secretsDir;
  }
  return { dir, configPath, env };
}

function check(prepared: Prepared): Promise<Outcome> {
  return runCollect(process.execPath, [CLI, 'agent', '--config', prepared.configPath, '--check'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...prepared.env },
    timeoutMs: 30_000,
  });
}

describe.skipIf(!HELM_AVAILABLE)('the agent configuration rendered by the chart', () => {
  it.each(SCENARIOS)('ci/%s-values.yaml passes agent --check with the pod environment', async (name) => {
    const objects = await render([scenarioFile(name)]);
    const prepared = preparePod(objects, name === 'ipv6');
    const res = await check(prepared);
    expect(res.out).toMatch(/^config OK: \d+ listeners, \d+ publishers/);
    expect(res.code).toBe(0);
  });

  it('depends on the environment the DaemonSet sets: without NODE_NAME the agent refuses it', async () => {
    const prepared = preparePod(await render([scenarioFile('default')]), false);
    delete prepared.env.NODE_NAME;
    const res = await check(prepared);
    expect(res.code).toBe(1);
    expect(res.out).toContain('environment variable NODE_NAME is not set');
  });

  // The agent gives an unquoted value that expands to a number or true/false that type, so a node named
  // "1234" would announce a number as its name; the chart quotes every string it renders.
  it.each(SCENARIOS)('ci/%s-values.yaml writes every environment reference double-quoted', async (name) => {
    const prepared = preparePod(await render([scenarioFile(name)]), name === 'ipv6');
    const doc = parseDocument(readFileSync(prepared.configPath, 'utf8'));
    const references: string[] = [];
    visit(doc, {
      Scalar(_key, node) {
        if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
          references.push(node.value);
          expect(node.type, node.value).toBe(Scalar.QUOTE_DOUBLE);
        }
      },
    });
    expect(references.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!HELM_AVAILABLE || !NETNS_AVAILABLE)('the chart configuration running', () => {
  it('starts an agent that answers /-/ready with the default values on a loopback node', async () => {
    // The loopback namespace stands in for a node whose LAN interface is lo and whose IP is 127.0.0.1.
    const objects = await render([scenarioFile('default')], ['lanInterface=lo']);
    const prepared = preparePod(objects, false);
    const host = await createLoopbackHost();
    try {
      const port = prepared.env.VM_HTTP_PORT;
      expect(prepared.env.VM_ADVERTISE_ADDR).toBe(`10.0.0.11:${port}`);
      const env = {
        ...prepared.env,
        POD_IP: '127.0.0.1',
        HOST_IP: '127.0.0.1',
        VM_ADVERTISE_ADDR: `127.0.0.1:${port}`,
      };
      const agent = host.spawn(process.execPath, [CLI, 'agent', '--config', prepared.configPath], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      });
      let log = '';
      agent.stdout?.on('data', (b: Buffer) => {
        log += b.toString();
      });
      agent.stderr?.on('data', (b: Buffer) => {
        log += b.toString();
      });
      const probe = `fetch('http://127.0.0.1:${port}/-/ready').then(r => process.exit(r.status === 200 ? 0 : 3), () => process.exit(4))`;
      await waitFor(
        async () => (await host.run(process.execPath, ['-e', probe], { timeoutMs: 5000 })).code === 0,
        `/-/ready to answer 200 (agent log: ${log})`,
        20_000,
      );
      // The agent hears its own announcement: the node name from the downward API reached the wire.
      const services = await host.run(process.execPath, [
        '-e',
        `fetch('http://127.0.0.1:${port}/api/v1/services').then(r => r.text()).then(t => process.stdout.write(t))`,
      ]);
      expect(services.stdout).toContain('"node-a"');
    } finally {
      await host.destroy();
    }
  });
});
