/**
 * Soak: one agent, 200 publishers announcing every 2 s, 10 % of them replaced every minute (a goodbye, then a
 * new service under a new name), for 10 minutes (`--minutes N` for another length). Every 10 s it samples the
 * agent's heap, RSS, open file descriptors and active handles/timers (from its /metrics, which reads
 * process.getActiveResourcesInfo() at scrape time; unref'd timers are not in it, and from /proc/PID) and the same figures of this load
 * generator, then asserts they plateau: after a warm-up, the last third of the run may not exceed the middle
 * third by more than a small margin. The report (a markdown table) replaces the marked block of
 * docs/reliability.md, unless `--no-report`.
 *
 *   npm run soak                  # 10 minutes, inside a throwaway network namespace
 *   npm run soak -- --minutes 2   # the CI variant
 *
 * Everything runs on 127.0.0.1 (join, send, HTTP); `npm run soak` runs it inside scripts/in-netns.sh.
 * Signing is required and the duplicate filter and rate limits are on, so the soak covers the guards too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VaultMultiPublisher } from '../src/discovery/publisher.js';
import { createSigner } from '../src/discovery/security/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const REPORT = join(ROOT, 'docs', 'reliability.md');

interface Args {
  minutes: number;
  publishers: number;
  churnPerMinute: number;
  sampleSeconds: number;
  report: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { minutes: 10, publishers: 200, churnPerMinute: 0.1, sampleSeconds: 10, report: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = Number(argv[i + 1]);
    if (k === '--minutes') a.minutes = v;
    else if (k === '--publishers') a.publishers = v;
    else if (k === '--churn') a.churnPerMinute = v;
    else if (k === '--sample-seconds') a.sampleSeconds = v;
    else if (k === '--no-report') {
      a.report = false;
      continue;
    } else throw new Error(`unknown argument ${k}`);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${k} needs a positive number`);
    i++;
  }
  return a;
}

function freeTcpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => res(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

interface Sample {
  t: number;
  agentHeapMB: number;
  agentRssMB: number;
  agentFds: number;
  /** process.getActiveResourcesInfo().length of the agent: handles, requests and ref'd timers. */
  agentResources: number;
  agentTimers: number;
  services: number;
  received: number;
  dropped: number;
  genHeapMB: number;
  genRssMB: number;
  genFds: number;
  genTimers: number;
}

/** One value of a metric family in Prometheus text, summed over the series that match `labels`. */
function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labels && !rest.includes(labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : Number.NaN;
}

async function fdCount(pid: number | 'self'): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const MB = 1024 * 1024;
const round = (n: number, d = 1) => (Number.isFinite(n) ? Number(n.toFixed(d)) : Number.NaN);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!process.env.VM_TEST_NETNS) {
    throw new Error('run the soak inside a throwaway network namespace: npm run soak (scripts/in-netns.sh)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'vm-soak-'));
  const keyHex = randomBytes(32).toString('hex');
  const key = Buffer.from(keyHex, 'latin1');
  await writeFile(join(dir, 'soak.key'), keyHex);
  const group = '239.193.77.1';
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const listen = `127.0.0.1:${await freeTcpPort()}`;
  const config = {
    http: { listen },
    log: { level: 'warn' },
    metrics: { processMetrics: true },
    security: {
      signing: { mode: 'required', keys: [{ id: 'soak', file: join(dir, 'soak.key') }], replayWindow: '30s' },
      rateLimit: { perSource: 1000, global: 20_000, maxSources: 1024 },
      duplicateWindow: '500ms',
    },
    // Retention short enough that departed services are forgotten within the run: the registry reaches its
    // steady state (publishers + those departed in the last 30 s) and any further growth would be a leak.
    listeners: [
      { name: 'soak', group, port, interfaces: ['127.0.0.1'], serviceTimeout: '10s', retention: '30s' },
    ],
  };
  const configPath = join(dir, 'agent.yaml');
  await writeFile(configPath, JSON.stringify(config));

  const agent: ChildProcess = spawn(process.execPath, [CLI, 'agent', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let agentErr = '';
  agent.stderr?.on('data', (d) => {
    agentErr = (agentErr + String(d)).slice(-4000);
  });
  const agentExit = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
  const pid = agent.pid ?? 0;

  const scrape = async (): Promise<string> => {
    const r = await fetch(`http://${listen}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return r.text();
  };
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://${listen}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (r.status === 200) break;
    } catch {}
    if (i > 150) throw new Error(`agent not ready:\n${agentErr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const signer = createSigner({ keyId: 'soak', key, group, port });
  let nextId = 0;
  const makePublisher = async (): Promise<VaultMultiPublisher> => {
    const id = nextId++;
    const p = new VaultMultiPublisher({
      group,
      port,
      interfaces: '127.0.0.1',
      interval: 2,
      signer,
      message: {
        type: 'soak',
        name: `svc-${id}`,
        addr: `198.18.${(id >> 8) & 255}.${id & 255}:${8000 + (id % 1000)}`,
      },
    });
    p.on('socketError', () => {});
    p.on('warning', () => {});
    await p.start();
    return p;
  };
  const live: VaultMultiPublisher[] = [];
  for (let i = 0; i < args.publishers; i++) live.push(await makePublisher());

  const durationMs = args.minutes * 60_000;
  const churnEveryMs = 60_000 / Math.max(1, Math.round(args.publishers * args.churnPerMinute));
  let replaced = 0;
  const churn = setInterval(() => {
    const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0];
    if (victim === undefined) return;
    replaced++;
    void victim.stop().then(async () => live.push(await makePublisher()));
  }, churnEveryMs);

  const samples: Sample[] = [];
  const started = Date.now();
  const takeSample = async () => {
    const text = await scrape();
    const mem = process.memoryUsage();
    const res = process.getActiveResourcesInfo();
    samples.push({
      t: Math.round((Date.now() - started) / 1000),
      agentHeapMB: round(metric(text, 'nodejs_heap_size_used_bytes') / MB),
      agentRssMB: round(await rssMB(pid)),
      agentFds: await fdCount(pid),
      // The sum over types of nodejs_active_resources (the misnamed _total gauge is not exported).
      agentResources: metric(text, 'nodejs_active_resources'),
      agentTimers: metric(text, 'nodejs_active_resources', 'type="Timeout"') || 0,
      services: metric(text, 'vault_multicast_services'),
      received: metric(text, 'vault_multicast_received_packets_total'),
      dropped: metric(text, 'vault_multicast_dropped_packets_total'),
      genHeapMB: round(mem.heapUsed / MB),
      genRssMB: round(mem.rss / MB),
      genFds: await fdCount('self'),
      genTimers: res.filter((r) => r === 'Timeout').length,
    });
    const s = samples[samples.length - 1]!;
    process.stdout.write(`${JSON.stringify(s)}\n`);
  };
  await takeSample();
  while (Date.now() - started < durationMs) {
    await new Promise((r) => setTimeout(r, args.sampleSeconds * 1000));
    await takeSample();
  }
  clearInterval(churn);
  const finalMetrics = await scrape();
  await Promise.all(live.map((p) => p.stop()));
  agent.kill('SIGTERM');
  const exitCode = await agentExit;
  await rm(dir, { recursive: true, force: true });

  const verdicts = plateau(samples);
  const droppedByReason = [
    ...finalMetrics.matchAll(/^vault_multicast_dropped_packets_total\{([^}]*)\} (\S+)$/gm),
  ]
    .filter((m) => Number(m[2]) > 0)
    .map((m) => `${/reason="([^"]+)"/.exec(m[1] ?? '')?.[1]}=${m[2]}`);
  const report = renderReport(args, samples, verdicts, replaced, droppedByReason, exitCode);
  process.stdout.write(`\n${report}\n`);
  if (args.report) {
    // One block per run length, so the 2-minute CI figures and a 10-minute run live side by side.
    const BEGIN = `<!-- soak:${args.minutes}m:begin -->`;
    const END = `<!-- soak:${args.minutes}m:end -->`;
    const doc = await readFile(REPORT, 'utf8').catch(() => `# Reliability\n\n${BEGIN}\n${END}\n`);
    const a = doc.indexOf(BEGIN);
    const b = doc.indexOf(END);
    const next =
      a >= 0 && b > a
        ? `${doc.slice(0, a + BEGIN.length)}\n${report}\n${doc.slice(b)}`
        : `${doc}\n${BEGIN}\n${report}\n${END}\n`;
    await writeFile(REPORT, next);
  }
  const failed = verdicts.filter((v) => !v.ok);
  if (failed.length > 0 || exitCode !== 0) {
    process.stderr.write(
      `soak FAILED: ${failed.map((f) => f.what).join(', ')}${exitCode !== 0 ? ` agent exit ${exitCode}` : ''}\n`,
    );
    process.exitCode = 1;
  }
}

interface Verdict {
  what: string;
  middle: number;
  last: number;
  allowed: number;
  ok: boolean;
}

/**
 * After a warm-up (the first quarter, at least 30 s), the maximum over the last third may exceed the maximum
 * over the middle third only by a margin: a leak grows steadily and shows up there; GC sawtooth and JIT noise
 * stay within it.
 */
function plateau(samples: Sample[]): Verdict[] {
  const warm = samples.filter((s) => s.t >= Math.max(30, samples[samples.length - 1]!.t / 4));
  const third = Math.floor(warm.length / 3);
  const middle = warm.slice(third, 2 * third);
  const last = warm.slice(2 * third);
  const checks: [string, (s: Sample) => number, (m: number) => number][] = [
    ['agent heap MB', (s) => s.agentHeapMB, (m) => m * 1.2 + 4],
    ['agent RSS MB', (s) => s.agentRssMB, (m) => m * 1.1 + 8],
    ['agent fds', (s) => s.agentFds, (m) => m + 2],
    ['agent active resources', (s) => s.agentResources, (m) => m + 3],
    ['agent timers', (s) => s.agentTimers, (m) => m + 3],
    ['tracked services', (s) => s.services, (m) => m * 1.1 + 5],
    ['generator heap MB', (s) => s.genHeapMB, (m) => m * 1.2 + 4],
    ['generator fds', (s) => s.genFds, (m) => m + 2],
    ['generator timers', (s) => s.genTimers, (m) => m + 3],
  ];
  return checks.map(([what, get, margin]) => {
    const mid = Math.max(...middle.map(get));
    const end = Math.max(...last.map(get));
    const allowed = margin(mid);
    return { what, middle: mid, last: end, allowed: round(allowed), ok: middle.length > 0 && end <= allowed };
  });
}

function renderReport(
  args: Args,
  samples: Sample[],
  verdicts: Verdict[],
  replaced: number,
  drops: string[],
  exitCode: number | null,
): string {
  const first = samples[0]!;
  const lastS = samples[samples.length - 1]!;
  const lines = [
    `Run of \`npm run soak -- --minutes ${args.minutes}\` on ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}: ` +
      `${args.publishers} signed publishers every 2 s, ${replaced} replaced (${Math.round(args.churnPerMinute * 100)} % per minute), ` +
      `one agent (signing required, duplicate window 500 ms, rate limits on). ` +
      `Datagrams received by the agent: ${lastS.received - first.received}; dropped by reason: ${drops.length ? drops.join(', ') : 'none'}. ` +
      `Agent exit on SIGTERM: ${exitCode}.`,
    '',
    '| t (s) | agent heap MB | agent RSS MB | agent fds | agent active resources | agent timers | tracked services | generator heap MB | generator RSS MB | generator fds | generator timers |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const every = Math.max(1, Math.ceil(samples.length / 20));
  samples.forEach((s, i) => {
    if (i % every !== 0 && i !== samples.length - 1) return;
    lines.push(
      `| ${s.t} | ${s.agentHeapMB} | ${s.agentRssMB} | ${s.agentFds} | ${s.agentResources} | ${s.agentTimers} | ${s.services} | ${s.genHeapMB} | ${s.genRssMB} | ${s.genFds} | ${s.genTimers} |`,
    );
  });
  lines.push(
    '',
    '| plateau check | max, middle third | max, last third | allowed | verdict |',
    '|---|---:|---:|---:|---|',
  );
  for (const v of verdicts) {
    lines.push(
      `| ${v.what} | ${v.middle} | ${v.last} | ${v.allowed} | ${v.ok ? 'plateau' : '**GROWING**'} |`,
    );
  }
  return lines.join('\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
