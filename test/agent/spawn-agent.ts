/**
 * Starts the BUILT agent (`node dist/src/cli/main.js agent --config FILE`) as a child process, for end-to-end
 * tests of the agent, its metrics, the page, the dashboards/alerts and the hardening suite. Reuse it:
 *
 *   import { spawnAgent } from './spawn-agent.js';
 *   const agent = await spawnAgent({ listeners: [{ group: '224.1.1.7', port, interfaces: ['127.0.0.1'] }] });
 *   const res = await agent.fetch('/metrics');          // { status, headers, body }
 *   await agent.stop();                                  // SIGTERM, resolves with { code, signal }
 *
 * - Run `npx tsc -p tsconfig.build.json` first (scripts/test.sh does); the helper throws if dist/ is missing.
 * - `config` is the YAML config as a plain object (the user-facing shape of docs/configuration.md). It is written
 *   as JSON (valid YAML) to a temporary file. When `http.listen` is absent the helper picks a free port on
 *   127.0.0.1 (or on the host's LAN address for a LAN host, so the test process reaches it with `attachSelf`).
 * - `host` (optional) is a namespace host from test/harness/netns.ts. Without one the agent runs in the test's own
 *   namespace (the throwaway one of scripts/in-netns.sh: only `lo`). With a loopback host (`createLoopbackHost()`)
 *   the test process cannot reach 127.0.0.1 inside it, so `agent.fetch()` goes through a small forwarder started
 *   inside that namespace (a Unix socket in the temp dir → the agent's port): always go through `agent.fetch()`
 *   and the test works in every setup.
 * - Waits for `/-/ready` to answer 200 unless `waitReady: false` (e.g. to test SIGTERM during start-up).
 * - `agent.reload(config)` rewrites the file and sends SIGHUP; `agent.writeConfig(config)` only rewrites it.
 * - `agent.logs()` is everything the agent wrote so far (stdout + stderr: pino JSON lines).
 * - `agent.kill()` sends SIGKILL; `agent.stop(signal = 'SIGTERM', timeoutMs = 8000)` sends the signal and waits
 *   for the exit, SIGKILLing after `timeoutMs`. Call one of them in afterAll/afterEach; the temp dir is removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, type Host } from '../harness/netns.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface SpawnAgentOptions {
  /** Namespace host to run in; default: the current namespace. */
  host?: Host;
  /** Extra CLI arguments (e.g. ['--log-level', 'debug']). */
  args?: string[];
  /** Wait for /-/ready = 200 (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface FetchResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface SpawnedAgent {
  /** Base URL, e.g. http://127.0.0.1:40123 (reachable from the test process only without a loopback host). */
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly configPath: string;
  /** An HTTP request to the agent, from wherever it is reachable. */
  fetch(path: string, init?: FetchInit): Promise<FetchResult>;
  /** Polls /-/ready until it answers 200. */
  waitReady(timeoutMs?: number): Promise<void>;
  writeConfig(config: Record<string, unknown>): Promise<void>;
  /** Writes the config and sends SIGHUP. */
  reload(config: Record<string, unknown>): Promise<void>;
  logs(): string;
  /** Resolves when the process has exited. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

async function pickListen(host: Host | undefined): Promise<string> {
  if (host === undefined) return `127.0.0.1:${await freeTcpPort()}`;
  // A fresh namespace holds no TCP sockets: any port in the dynamic range is free.
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  return `${host.ifname === 'lo' ? '127.0.0.1' : host.ipv4}:${port}`;
}

/**
 * A forwarder inside the namespace from a Unix socket (file-system sockets are not bound to a network
 * namespace) to the agent's TCP port, so the test process can talk to an agent it cannot route to.
 */
const FORWARDER = `
  const net = require('node:net');
  const [path, port] = JSON.parse(process.argv[1]);
  net.createServer((c) => {
    const u = net.connect(port, '127.0.0.1');
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  }).listen(path, () => process.stdout.write('listening\\n'));`;

async function startForwarder(host: Host, socketPath: string, port: number): Promise<ChildProcess> {
  const child = host.spawn(process.execPath, ['-e', FORWARDER, JSON.stringify([socketPath, port])]);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`forwarder exited with ${code}`)));
  });
  return child;
}

function fetchUnix(socketPath: string, path: string, init: FetchInit): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath,
        path,
        method: init.method ?? 'GET',
        headers: init.headers,
        timeout: 10_000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

async function fetchDirect(url: string, init: FetchInit): Promise<FetchResult> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return { status: r.status, headers, body: await r.text() };
}

export async function spawnAgent(
  config: Record<string, unknown>,
  opts: SpawnAgentOptions = {},
): Promise<SpawnedAgent> {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} missing: run npx tsc -p tsconfig.build.json first`);
  const host = opts.host;
  const http = { ...((config.http as Record<string, unknown> | undefined) ?? {}) };
  if (http.listen === undefined) http.listen = await pickListen(host);
  const listen = String(http.listen);
  const scheme = http.tls ? 'https' : 'http';
  const url = `${scheme}://${listen}`;
  const dir = await mkdtemp(join(tmpdir(), 'vm-agent-'));
  const configPath = join(dir, 'agent.yaml');
  const withHttp = (c: Record<string, unknown>) => ({
    ...c,
    http: { ...((c.http as Record<string, unknown> | undefined) ?? {}), listen },
  });
  const writeConfig = (c: Record<string, unknown>) =>
    writeFile(configPath, JSON.stringify(withHttp(c), null, 2));
  await writeConfig({ ...config, http });

  const args = [CLI_MAIN, 'agent', '--config', configPath, ...(opts.args ?? [])];
  const spawnOpts = { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: 'pipe' as const };
  const child = host
    ? host.spawn(process.execPath, args, spawnOpts)
    : spawn(process.execPath, args, spawnOpts);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
  });
  let exited = false;
  let forwarder: Promise<ChildProcess> | undefined;
  const socketPath = join(dir, 'http.sock');
  void exitPromise.then(async () => {
    exited = true;
    if (forwarder) (await forwarder.catch(() => undefined))?.kill('SIGKILL');
    void rm(dir, { recursive: true, force: true });
  });

  const doFetch = async (path: string, init: FetchInit = {}) => {
    if (host?.ifname !== 'lo') return fetchDirect(url + path, init);
    forwarder ??= startForwarder(host, socketPath, Number(new URL(url).port));
    await forwarder;
    return fetchUnix(socketPath, path, init);
  };

  const waitReady = async (timeoutMs = opts.readyTimeoutMs ?? 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (exited) throw new Error(`agent exited before it was ready:\n${output}`);
      try {
        const r = await doFetch('/-/ready');
        if (r.status === 200) return;
        last = `${r.status} ${r.body}`;
      } catch (err) {
        last = String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`agent not ready after ${timeoutMs} ms (last: ${last}):\n${output}`);
  };

  const agent: SpawnedAgent = {
    url,
    pid: child.pid ?? -1,
    child,
    configPath,
    fetch: doFetch,
    waitReady,
    writeConfig,
    async reload(c) {
      await writeConfig(c);
      child.kill('SIGHUP');
    },
    logs: () => output,
    exited: () => exitPromise,
    async stop(signal = 'SIGTERM', timeoutMs = 8000) {
      if (!exited) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exitPromise;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitReady();
    } catch (err) {
      agent.kill();
      throw err;
    }
  }
  return agent;
}
