/**
 * The costly attacks of the second hardening round (issue 12), each against a fresh agent, with what each
 * costs: peak RSS and descriptors of the agent, /metrics latency while it runs (sampled every 250 ms), and
 * how many of 20 legitimate services (announcing every second) are missing at the end.
 *
 *   npm run bench -- attack                         # every attack, about a minute in all
 *   node dist/bench/attack.bench.js --only sse      # one of: held, sse, big, burst
 *   node dist/bench/attack.bench.js --agent /other/checkout/dist/src/cli/main.js   # the same on another build
 *
 * As root it re-runs itself inside a throwaway network namespace holding only loopback (removed afterwards):
 * every datagram and connection stays on 127.0.0.0/8.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inOwnNamespace } from './own-namespace.js';

const self = fileURLToPath(import.meta.url);
const root = resolve(self, '../../..');
const { values } = parseArgs({
  options: { agent: { type: 'string' }, only: { type: 'string' } },
});
const agentMain = values.agent ?? join(root, 'dist/src/cli/main.js');
const HTTP_PORT = 19478;
const GROUP = '239.77.0.1';
const UDP_PORT = 5077;
const LEGIT = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

interface Agent {
  child: ChildProcess;
  pid: number;
  url: string;
  dir: string;
}

async function startAgent(listenerExtra: string): Promise<Agent> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-attack-'));
  writeFileSync(
    join(dir, 'agent.yaml'),
    [
      `http: {listen: 127.0.0.1:${HTTP_PORT}}`,
      'log: {level: error}',
      'listeners:',
      `  - {name: lan, group: ${GROUP}, port: ${UDP_PORT}, interfaces: [127.0.0.1], receiveBufferBytes: 16777216${listenerExtra}}`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, [agentMain, 'agent', '--config', join(dir, 'agent.yaml')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${HTTP_PORT}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/-/ready`).catch(() => undefined))?.ok) break;
    if (i > 100) throw new Error('agent not ready after 10 s');
    await sleep(100);
  }
  return { child, pid: child.pid!, url, dir };
}

async function stopAgent(a: Agent): Promise<void> {
  if (a.child.exitCode === null) {
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
  }
  rmSync(a.dir, { recursive: true, force: true });
}

async function udpFrom(address: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, r));
  s.setMulticastInterface('127.0.0.1');
  return s;
}

const send = (s: UdpSocket, bytes: Buffer) =>
  new Promise<void>((r) => s.send(bytes, UDP_PORT, GROUP, () => r()));

function announcement(message: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/** 20 legitimate services from 127.0.0.200, announcing every second, until stopped. */
async function legitimate(): Promise<{ stop(): Promise<void> }> {
  const s = await udpFrom('127.0.0.200');
  let running = true;
  const loop = (async () => {
    while (running) {
      for (let i = 0; i < LEGIT; i++) {
        await send(
          s,
          announcement({ type: 'legit', name: `legit-${i}`, addr: `198.19.0.${i + 1}:80`, ttl: 30 }),
        );
      }
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      s.close();
    },
  };
}

/** Samples RSS, descriptors and /metrics latency every 250 ms while `attack` runs. */
async function measure(agent: Agent, attack: () => Promise<void>) {
  let peakRss = rssMiB(agent.pid);
  let peakFds = fds(agent.pid);
  const latencies: number[] = [];
  let failures = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, rssMiB(agent.pid) || 0);
      peakFds = Math.max(peakFds, fds(agent.pid) || 0);
      const t0 = performance.now();
      try {
        const r = await fetch(`${agent.url}/metrics`, { signal: AbortSignal.timeout(5000) });
        await r.arrayBuffer();
        if (r.ok) latencies.push(performance.now() - t0);
        else failures++;
      } catch {
        failures++;
      }
      await sleep(250);
    }
  })();
  await attack();
  await sleep(1500);
  sampling = false;
  await sampler;
  latencies.sort((x, y) => x - y);
  return {
    peakRss,
    peakFds,
    p50: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
    max: latencies.at(-1) ?? Number.NaN,
    failures,
  };
}

async function legitMissing(agent: Agent): Promise<number | string> {
  try {
    const r = await fetch(`${agent.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    const up = text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('vault_multicast_service_up{') &&
          l.includes('service_type="legit"') &&
          l.endsWith(' 1'),
      );
    return LEGIT - up.length;
  } catch {
    return 'agent gone';
  }
}

interface Attack {
  name: string;
  what: string;
  listenerExtra: string;
  run(agent: Agent, sockets: Socket[]): Promise<string>;
}

function hold(url: string, request: string, from?: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((res) => {
    const s = connect(
      { host: u.hostname, port: Number(u.port), allowHalfOpen: true, localAddress: from },
      () => {
        s.write(request);
        res(s);
      },
    );
    s.on('error', () => res(s));
    s.on('data', () => s.pause());
  });
}

async function fill(
  count: number,
  from: string,
  message: (i: number) => Record<string, unknown>,
  pauseEvery = 50,
): Promise<void> {
  const s = await udpFrom(from);
  for (let i = 0; i < count; i++) {
    await send(s, announcement(message(i)));
    if (i % pauseEvery === pauseEvery - 1) await sleep(5);
  }
  s.close();
}

const ATTACKS: Attack[] = [
  {
    name: 'held',
    what: '1,500 clients send BROKEN, read the 400 and keep their socket',
    listenerExtra: '',
    async run(agent, sockets) {
      for (let i = 0; i < 1500; i++) sockets.push(await hold(agent.url, 'BROKEN\r\n\r\n'));
      await sleep(1000);
      return `agent fds with the clients still holding: ${fds(agent.pid)}`;
    },
  },
  {
    name: 'sse',
    what: '10,000 services of 1.3 KB, 64 event-stream clients from 8 addresses that never read',
    listenerExtra: ', maxServices: 20000, serviceTimeout: 1h',
    async run(agent, sockets) {
      const blob = 'v'.repeat(1_200);
      await fill(10_000, '127.0.0.2', (i) => ({
        type: 'svc',
        name: `s${i}`,
        addr: `198.18.${i >> 8}.${i & 255}:80`,
        blob,
      }));
      await sleep(500);
      const request = 'GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
      for (let a = 1; a <= 8; a++)
        for (let c = 0; c < 8; c++) sockets.push(await hold(agent.url, request, `127.0.0.${a}`));
      await sleep(3000);
      return `RSS with the clients connected: ${rssMiB(agent.pid).toFixed(0)} MiB`;
    },
  },
  {
    name: 'big',
    what: '10,000 announcements of 65 KB (maxDatagramBytes 65507), then GET /api/v1/services',
    listenerExtra: ', maxDatagramBytes: 65507, maxServices: 20000, serviceTimeout: 1h',
    async run(agent) {
      const blob = 'x'.repeat(65_000);
      await fill(
        10_000,
        '127.0.0.2',
        (i) => ({
          type: 'big',
          name: `b${i}`,
          addr: `198.18.${i >> 8}.${i & 255}:80`,
          blob,
        }),
        5,
      );
      await sleep(500);
      const kept = await (await fetch(`${agent.url}/metrics`)).text();
      const accepted = /vault_multicast_accepted_packets_total\{[^}]*\} (\d+)/.exec(kept)?.[1];
      const t0 = performance.now();
      const r = await fetch(`${agent.url}/api/v1/services`).catch((e: unknown) => ({
        status: String(e),
        arrayBuffer: async () => new ArrayBuffer(0),
      }));
      const size = (await r.arrayBuffer()).byteLength;
      return `accepted ${accepted ?? '?'} datagrams; /api/v1/services: ${r.status}, ${(size / 1e6).toFixed(1)} MB in ${(performance.now() - t0).toFixed(0)} ms`;
    },
  },
  {
    name: 'burst',
    what: '10,000 announcements with ttl 3600 from one address into maxServices 10,000',
    listenerExtra: '',
    async run(agent) {
      await fill(10_000, '127.0.0.2', (i) => ({
        type: 'burst',
        name: `x${i}`,
        addr: `198.18.${i >> 8}.${i & 255}:80`,
        ttl: 3600,
      }));
      await sleep(1000);
      // Then a newcomer from another address with 5 services, as the report's second host.
      await fill(5, '127.0.0.3', (i) => ({ type: 'newcomer', name: `n${i}`, addr: `198.19.1.${i + 1}:80` }));
      await sleep(1500);
      const text = await (await fetch(`${agent.url}/metrics`)).text();
      const refused = /vault_multicast_dropped_packets_total\{[^}]*reason="service_limit"\} (\d+)/.exec(
        text,
      )?.[1];
      const listed = await (await fetch(`${agent.url}/api/v1/services?type=newcomer`)).json();
      const admitted = (listed as { services: unknown[] }).services.length;
      return `newcomer services admitted: ${admitted} of 5; datagrams refused as service_limit: ${refused ?? '?'}`;
    },
  },
];

async function main(): Promise<void> {
  process.stdout.write(`agent: ${agentMain}\n`);
  const chosen = ATTACKS.filter((a) => values.only === undefined || a.name === values.only);
  for (const attack of chosen) {
    const agent = await startAgent(attack.listenerExtra);
    const sockets: Socket[] = [];
    const legit = await legitimate();
    try {
      await sleep(1500);
      const baseRss = rssMiB(agent.pid);
      const baseFds = fds(agent.pid);
      let note = '';
      const m = await measure(agent, async () => {
        note = await attack.run(agent, sockets).catch((e: unknown) => `attack failed: ${String(e)}`);
      });
      const missing = await legitMissing(agent);
      const alive = agent.child.exitCode === null ? 'running' : `exited ${agent.child.exitCode}`;
      process.stdout.write(
        [
          `${attack.name}: ${attack.what}`,
          `  agent                ${alive}`,
          `  RSS                  ${baseRss.toFixed(0)} → peak ${m.peakRss.toFixed(0)} MiB`,
          `  fds                  ${baseFds} → peak ${m.peakFds}`,
          `  /metrics latency     p50 ${m.p50.toFixed(0)} ms, max ${m.max.toFixed(0)} ms, ${m.failures} failed`,
          `  legitimate lost      ${missing} of ${LEGIT} services missing at the end`,
          `  ${note}`,
          '',
        ].join('\n'),
      );
    } finally {
      for (const s of sockets) s.destroy();
      await legit.stop();
      await stopAgent(agent);
    }
  }
}

await inOwnNamespace('attack', self, main);
