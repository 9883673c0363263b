/**
 * End to end: the built agent in a loopback namespace host with listeners on different groups of one port
 * and a publisher; announcements from separate processes. /metrics counts exactly per group and passes
 * promtool; a SIGKILLed publisher's service goes to up 0 and then disappears; SIGHUP bursts leave the file
 * descriptors as they were; SIGTERM exits 0 after the goodbye reached a listener.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLoopbackHost, type Host, NETNS_AVAILABLE, waitFor } from '../harness/netns.js';
import { nodeArgs, PUBLISHER, RAW_CLIENT, SENDER, WATCHER } from './node-scripts.js';
import { type SpawnedAgent, spawnAgent } from './spawn-agent.js';

const X = '224.1.1.41';
const Y = '224.1.1.42';
const Z = '224.1.1.43';
const K = '224.1.1.45';

function runNode(host: Host, script: string, args: unknown[]) {
  return host.spawn(process.execPath, nodeArgs(script, args));
}

/** Opens a connection and sends half a request, then waits without reading. */
const HALF_REQUEST: [string, boolean] = ['GET /metrics HTTP/1.1\r\nHost: x\r\n', true];

/**
 * What a process holds open, HTTP connections aside (the test's own requests come and go): files, pipes,
 * event fds, UDP sockets by inode and listening TCP sockets.
 */
function openFiles(pid: number): string[] {
  const table = (file: string) => {
    const rows = readFileSync(`/proc/${pid}/net/${file}`, 'utf8').split('\n').slice(1);
    return new Map(rows.map((r) => r.trim().split(/\s+/)).map((c) => [c[9] ?? '', c[3] ?? '']));
  };
  const udp = table('udp');
  const tcp = table('tcp');
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode === undefined) out.push(`${fd}:${target}`);
    else if (udp.has(inode)) out.push(`udp:${inode}`);
    else if (tcp.get(inode) === '0A') out.push(`tcp-listen:${inode}`);
  }
  return out.sort();
}

function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const labelText = line.slice(name.length + 1, close);
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      return Number(line.slice(close + 2));
    }
  }
  return undefined;
}

function promtoolCheck(body: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
    child.stdin?.end(body);
  });
}

describe.skipIf(!NETNS_AVAILABLE)('agent end to end', () => {
  let host: Awaited<ReturnType<typeof createLoopbackHost>>;
  let agent: SpawnedAgent;
  let watcherOut = '';
  const port = 5004;

  beforeAll(async () => {
    host = await createLoopbackHost();
    const watcher = runNode(host, WATCHER, [Z, port]);
    watcher.stdout?.on('data', (d) => {
      watcherOut += d;
    });
    await waitFor(() => watcherOut.includes('ready'), 'watcher ready', 10_000);
    const listener = (name: string, group: string) => ({ name, group, port, interfaces: ['127.0.0.1'] });
    // Short timeout and retention, so that a killed publisher expires and is forgotten within the test.
    const shortLived = { ...listener('k', K), serviceTimeout: '1s', retention: '4s' };
    agent = await spawnAgent(
      {
        listeners: [listener('x', X), listener('y', Y), shortLived],
        publishers: [
          {
            name: 'self',
            group: Z,
            port,
            interface: '127.0.0.1',
            interval: '200ms',
            message: { type: 'AgentSelf', name: 'self', addr: '127.0.0.1:9477' },
          },
        ],
      },
      { host },
    );
  }, 60_000);

  afterAll(async () => {
    agent?.kill();
    await host?.destroy();
  });

  test('exact received counts per group, each listener only its own group', async () => {
    const sender = (group: string, count: number, type: string) =>
      host.run(process.execPath, nodeArgs(SENDER, [group, port, count, type, false]), { timeoutMs: 10_000 });
    const sx = await sender(X, 25, 'CountX');
    expect(sx.code, sx.stderr).toBe(0);
    const sy = await sender(Y, 40, 'CountY');
    expect(sy.code, sy.stderr).toBe(0);
    let body = '';
    const received = (l: string) => sample(body, 'vault_multicast_received_packets_total', { listener: l });
    await waitFor(
      async () => {
        body = (await agent.fetch('/metrics')).body;
        return received('x') === 25 && received('y') === 40;
      },
      'exact counts',
      10_000,
    ).catch(() => undefined);
    expect({ x: received('x'), y: received('y') }).toEqual({ x: 25, y: 40 });
    expect(sample(body, 'vault_multicast_accepted_packets_total', { listener: 'x' })).toBe(25);
    expect(sample(body, 'vault_multicast_active_services', { listener: 'y' })).toBe(3);
    const services = JSON.parse((await agent.fetch('/api/v1/services')).body) as {
      services: { listener: string; type: string }[];
    };
    const types = (l: string) => [
      ...new Set(services.services.filter((s) => s.listener === l).map((s) => s.type)),
    ];
    expect(types('x')).toEqual(['CountX']);
    expect(types('y')).toEqual(['CountY']);
  });

  test('promtool accepts /metrics', async () => {
    const res = await agent.fetch('/metrics');
    expect(res.status).toBe(200);
    const check = await promtoolCheck(res.body);
    // The whole body, process metrics included, passes with no finding (exit 1: format error, 3: lint).
    expect(check.out.trim()).toBe('');
    expect(check.code).toBe(0);
  });

  test('a SIGKILLed publisher goes to service_up 0 after the timeout, then disappears', async () => {
    const pub = runNode(host, PUBLISHER, [K, port, 'Killable']);
    const up = async () =>
      sample((await agent.fetch('/metrics')).body, 'vault_multicast_service_up', {
        service_type: 'Killable',
      });
    await waitFor(async () => (await up()) === 1, 'Killable up', 10_000);
    pub.kill('SIGKILL');
    await waitFor(async () => (await up()) === 0, 'Killable up 0', 10_000);
    await waitFor(async () => (await up()) === undefined, 'Killable gone from /metrics', 10_000);
    const services = (await agent.fetch('/api/v1/services?type=Killable')).body;
    expect(JSON.parse(services)).toEqual({ services: [] });
  });

  test('ten SIGHUPs in one second leave the file descriptors unchanged', async () => {
    const fds = () => openFiles(agent.pid);
    const reloads = async () =>
      sample((await agent.fetch('/metrics')).body, 'vault_multicast_config_reloads_total', {
        result: 'success',
      }) ?? 0;
    const before = fds();
    const reloadsBefore = await reloads();
    for (let i = 0; i < 10; i++) {
      agent.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(async () => (await reloads()) > reloadsBefore, 'a reload', 10_000);
    // Settled: no reload still running once two reads 300 ms apart agree.
    let last = -1;
    await waitFor(
      async () => {
        const now = await reloads();
        const same = now === last;
        last = now;
        await new Promise((r) => setTimeout(r, 300));
        return same;
      },
      'reloads settle',
      10_000,
    );
    expect(fds()).toEqual(before);
    expect(before.filter((f) => f.startsWith('udp:'))).toHaveLength(4);
    expect((await agent.fetch('/-/ready')).status).toBe(200);
  });

  test('SIGTERM: exit 0 and the goodbye reaches a listener', async () => {
    expect(watcherOut).toContain('up AgentSelf');
    expect(watcherOut).not.toContain('down AgentSelf');
    const exit = await agent.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    await waitFor(() => watcherOut.includes('down AgentSelf goodbye'), 'goodbye', 5000);
    expect(agent.logs()).toContain('"msg":"agent stopped"');
  });
});

describe.skipIf(!NETNS_AVAILABLE)('agent signals', () => {
  let host: Awaited<ReturnType<typeof createLoopbackHost>>;
  beforeAll(async () => {
    host = await createLoopbackHost();
  });
  afterAll(async () => host?.destroy());

  const config = {
    listeners: [{ name: 'l', group: '224.1.1.44', port: 5004, interfaces: ['127.0.0.1'] }],
    publishers: [
      {
        name: 'p',
        group: '224.1.1.44',
        port: 5004,
        interface: '127.0.0.1',
        message: { type: 'S', addr: '127.0.0.1:1' },
      },
    ],
  };

  test('SIGTERM during start-up exits 0', { timeout: 60_000 }, async () => {
    // An OTLP export makes start-up load the OpenTelemetry SDK after the HTTP server is up: a window of a few
    // hundred milliseconds between the first log line and readiness, where the signal lands. (Nothing listens
    // on the discard port; the final export fails fast.)
    const withOtlp = {
      ...config,
      metrics: { otlp: { endpoint: 'http://127.0.0.1:9/v1/metrics', interval: '1m' } },
    };
    const agent = await spawnAgent(withOtlp, { host, waitReady: false });
    try {
      let exitedEarly = false;
      void agent.exited().then(() => {
        exitedEarly = true;
      });
      await waitFor(
        () => {
          if (exitedEarly) throw new Error(`agent exited during start-up:\n${agent.logs()}`);
          return agent.logs().includes('"msg":"http listening"');
        },
        'first log line',
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${agent.logs()}`);
      });
      agent.child.kill('SIGTERM');
      expect(await agent.exited()).toEqual({ code: 0, signal: null });
      expect(agent.logs()).toContain('"msg":"agent stopped"');
    } finally {
      agent.kill();
    }
  });

  test('--log-level overrides the configured level', async () => {
    const agent = await spawnAgent(
      { ...config, log: { level: 'debug' } },
      { host, args: ['--log-level', 'warn'] },
    );
    expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(agent.logs()).not.toContain('"level":"info"');
    expect(agent.logs()).not.toContain('"level":"debug"');
  });

  test('a second signal during shutdown exits at once with 128 + signal', async () => {
    const agent = await spawnAgent(config, { host });
    // A client stuck half-way through its request headers holds the HTTP close for 500 ms: the window in
    // which the second signal arrives.
    const { port } = new URL(agent.url);
    const holder = runNode(host, RAW_CLIENT, [Number(port), ...HALF_REQUEST]);
    let held = '';
    holder.stdout?.on('data', (d) => {
      held += d;
    });
    try {
      await waitFor(() => held.includes('connected'), 'half-open request', 10_000);
      agent.child.kill('SIGTERM');
      await waitFor(() => agent.logs().includes('"msg":"agent stopping"'), 'shutdown begun', 5000);
      agent.child.kill('SIGTERM');
      expect(await agent.exited()).toEqual({ code: 143, signal: null });
      expect(agent.logs()).toContain('second signal: exiting now');
    } finally {
      agent.kill();
      holder.kill('SIGKILL');
    }
  });
});
