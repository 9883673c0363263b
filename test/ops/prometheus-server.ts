/**
 * A real Prometheus server (Debian's /usr/bin/prometheus, or $PROMETHEUS) for end-to-end tests: a temporary
 * directory for its configuration, rules and TSDB, bound to 127.0.0.1 of the test's namespace, stopped by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freeTcpPort, waitFor } from '../harness/netns.js';

export const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface PromRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  state?: string;
}

export interface PrometheusServer {
  readonly url: string;
  readonly pid: number;
  /** Instant query; throws on a PromQL error. */
  query(expr: string): Promise<PromSample[]>;
  /** Range query from `start` (unix s) to now. */
  queryRange(expr: string, start: number, stepSeconds: number): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  rules(): Promise<PromRule[]>;
  logs(): string;
  stop(): Promise<void>;
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

export async function startPrometheus(opts: {
  config: Record<string, unknown>;
  /** File name → text, written next to the configuration (for `rule_files`). */
  files?: Record<string, string>;
}): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vm-prometheus-'));
  for (const [file, text] of Object.entries(opts.files ?? {})) await writeFile(join(dir, file), text);
  await writeFile(join(dir, 'prometheus.yaml'), stringify(opts.config));
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yaml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  // A missing binary surfaces as 'error' (never 'exit'); keep it as output so the readiness wait reports it.
  let failed = false;
  child.once('error', (err) => {
    failed = true;
    output += `cannot run ${PROMETHEUS}: ${err.message}\n`;
  });
  const exited = new Promise<void>((r) => {
    child.once('exit', () => r());
    child.once('error', () => r());
  });

  async function api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  const server: PrometheusServer = {
    url,
    pid: child.pid ?? -1,
    async query(expr) {
      const data = await api<{ result: PromSample[] }>('/api/v1/query', { query: expr });
      return data.result;
    },
    async queryRange(expr, start, stepSeconds) {
      const end = Date.now() / 1000;
      const data = await api<{ result: PromSample[] }>('/api/v1/query_range', {
        query: expr,
        start: String(start),
        end: String(end),
        step: String(stepSeconds),
      });
      return data.result;
    },
    async alerts() {
      return (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts;
    },
    async rules() {
      const data = await api<{ groups: { rules: PromRule[] }[] }>('/api/v1/rules');
      return data.groups.flatMap((g) => g.rules);
    },
    logs: () => output,
    async stop() {
      if (!failed && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await waitFor(
      async () => {
        if (failed || child.exitCode !== null) throw new Error(`prometheus exited:\n${output}`);
        const r = await fetch(`${url}/-/ready`).catch(() => undefined);
        return r?.status === 200;
      },
      'prometheus to be ready',
      20_000,
    );
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
