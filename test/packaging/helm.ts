/**
 * Runs the real helm and helm-unittest binaries that scripts/install-helm.sh builds into .cache/bin, against the
 * chart in helm/vault-multicast, and parses what they render.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
export const HELM = resolve(ROOT, '.cache/bin/helm');
export const HELM_UNITTEST = resolve(ROOT, '.cache/bin/helm-unittest');
export const CHART = resolve(ROOT, 'helm/vault-multicast');
export const HELM_AVAILABLE = existsSync(HELM) && existsSync(HELM_UNITTEST);
export const HELM_MISSING = `${HELM} or ${HELM_UNITTEST} is missing: build them with \`bash scripts/install-helm.sh\` (.ci/run does)`;

// The Kubernetes version the chart's own tests render for (the helm of scripts/install-helm.sh assumes 1.34).
export const KUBE_VERSION = '1.30.0';

/** The ci/*-values.yaml scenarios, by name ("default", "ipv6"...). */
export const SCENARIOS: string[] = readdirSync(resolve(CHART, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .map((f) => f.slice(0, -'-values.yaml'.length))
  .sort();

export function scenarioFile(name: string): string {
  return resolve(CHART, 'ci', `${name}-values.yaml`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<RunResult>((done) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd ?? ROOT, env: opts.env ?? helmEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** helm keeps its caches and plugin config under the work tree, never in the user's home. */
function helmEnv(): NodeJS.ProcessEnv {
  const home = resolve(ROOT, '.cache/helm');
  return {
    ...process.env,
    HELM_CACHE_HOME: `${home}/cache`,
    HELM_CONFIG_HOME: `${home}/config`,
    HELM_DATA_HOME: `${home}/data`,
  };
}

export function helm(args: string[]): Promise<RunResult> {
  return run(HELM, args);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/** `helm template` with the given values files and --set flags; throws with helm's message on failure. */
export async function render(valueFiles: string[], set: string[] = []): Promise<K8sObject[]> {
  const args = ['template', 'vm', CHART, '--namespace', 'lan', '--kube-version', KUBE_VERSION];
  for (const f of valueFiles) args.push('-f', f);
  for (const s of set) args.push('--set', s);
  const res = await helm(args);
  if (res.code !== 0) throw new Error(`helm template failed:\n${res.stderr}`);
  return parseManifests(res.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) out.push(value);
  }
  return out;
}

export function findObject(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} among ${objects.map((o) => o.kind).join(', ')}`);
  return found;
}
