/**
 * Packet loss while /metrics is scraped and OTLP exported: a real listener receiving 100,000 announcements/s
 * for 10,000 live services on loopback multicast, its /metrics served over HTTP as the agent serves it and
 * fetched every second the way Prometheus fetches it (OpenMetrics, gzip), its OTLP export pushed every 10 s
 * (protobuf) to a receiver in the orchestrating process, the sender in another process. The receiver reports
 * its longest event-loop stall (perf_hooks' event-loop delay histogram, 1 ms resolution), the same without the
 * V8 collections inside it, and what its listener read ahead of the receive path (its receive queue). Must run inside a
 * network namespace (scrape.bench.ts starts it through scripts/in-netns.sh); it refuses to run outside one.
 *
 *   node dist/bench/scrape-loss.js orchestrate <mode> <seconds> [rate]
 *   mode: none | ours (scrapes and OTLP) | scrape (scrapes only) | naive (prom-client gauges, scrapes only)
 *
 * Roles (the same file, selected by argv[2]): `orchestrate` starts a `receive` child and the ingest
 * benchmark's paced sender (bench/ingest/sender.py, UDP segmentation offload, so the sender is never the
 * bottleneck), and scrapes; `receive` runs the listener and the HTTP endpoint. As in the ingest benchmark, the
 * receiver and the sender each run in a session of their own with the top autogroup weight, pinned to CPU 0
 * and CPU 1, so other sessions on a shared machine do not decide the result.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ExportPreparer } from '../src/agent/runtime/export-preparer.js';
import { VaultMultiListener } from '../src/discovery/listener.js';
import { KernelDropCounter } from '../src/discovery/net/proc-udp.js';
import { loadOtlpPipeline, startOtlpExport } from '../src/metrics/otlp.js';
import { createMetricsHandler } from '../src/metrics/prometheus.js';
import { serveMetrics } from '../src/metrics/serve.js';
import { prepareServiceLabels } from '../src/metrics/service-series.js';
import { prioritise } from './priority.js';
import {
  agentState,
  benchListenerConfig,
  GROUP,
  naivePromClient,
  PROMETHEUS_ACCEPT,
} from './scrape-fixture.js';
import { LoopWatch } from './stats.js';

const SERVICES = 10_000;
const PORT = 5099;

interface ReceiverReport {
  received: number;
  accepted: number;
  dropped: number;
  kernelDrops: number | undefined;
  /**
   * Kernel drops in the first STARTUP_MS after the receiver was ready: the start, when all 10,000 services are
   * new within 0.1 s and the code is not compiled yet, apart from the steady state that scrapes and exports meet.
   */
  startupKernelDrops: number | undefined;
  up: number;
  receiveBufferBytes: number | undefined;
  scrapes: number;
  scrapeMsMedian: number;
  /** Longest event-loop delay seen by the receiver over the whole run, ms. */
  longestStallMs: number;
  /** The same with the V8 collections and the waits for a core inside it taken out (stats.ts), ms. */
  codeStallMs: number;
  /** Both after the first STARTUP_MS, in the steady state that scrapes and exports meet. */
  steadyStallMs: number;
  steadyCodeStallMs: number;
  /** Longest single V8 collection pause, ms. */
  gcPauseMs: number;
  /** Datagrams the listener read ahead of its receive path, and the most it held at once. */
  queued: number;
  queuedPeak: number;
  otlpExports: number;
}

const OTLP_INTERVAL_MS = 10_000;
const STARTUP_MS = 5_000;

function send(msg: unknown): void {
  process.send?.(msg);
}

async function receive(mode: string, otlpUrl: string): Promise<void> {
  const listener = new VaultMultiListener({
    group: GROUP,
    port: PORT,
    interfaces: ['127.0.0.1'],
    serviceTimeout: 60,
    retention: 60,
    maxServices: SERVICES,
  });
  await listener.start();
  const kernel = new KernelDropCounter(GROUP, PORT);
  const state = agentState(
    [{ name: 'bench', config: benchListenerConfig('bench', PORT, SERVICES), listener }],
    SERVICES,
  );
  const ours = createMetricsHandler(state, { processMetrics: true });
  const naive = naivePromClient(state);
  // Exports every 10 s until the process exits (no final export: the orchestrator's receiver is closing).
  // Loaded before the socket receives, as the agent loads it.
  const otlp =
    mode === 'ours'
      ? await loadOtlpPipeline().then(() =>
          startOtlpExport(state, { endpoint: otlpUrl, intervalMs: OTLP_INTERVAL_MS, headers: {} }),
        )
      : undefined;
  // As the agent does whatever it exports: a service's exported bytes are encoded soon after it comes up, when
  // the receive queue holds nothing (src/agent/runtime/export-preparer.ts). The naive serializer keeps nothing.
  if (mode !== 'naive' && process.env.VM_BENCH_PREPARE !== '0') {
    const preparer = new ExportPreparer(
      () => listener.receiveQueue.held > 0,
      (rec) => {
        prepareServiceLabels(rec);
        otlp?.prepare(rec);
      },
    );
    listener.on('up', (rec) => preparer.add(rec));
  }
  const scrapeMs: number[] = [];
  const server = createServer((req, res) => {
    const t0 = performance.now();
    res.once('finish', () => scrapeMs.push(performance.now() - t0));
    if (mode === 'naive') {
      void naive().then((body) =>
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body),
      );
    } else void serveMetrics(req, res, ours);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const watch = new LoopWatch().start();
  send({ ready: (server.address() as AddressInfo).port });
  let startupKernelDrops: number | undefined;
  let steady: LoopWatch | undefined;
  setTimeout(async () => {
    steady = new LoopWatch().start();
    startupKernelDrops = await kernel.read();
  }, STARTUP_MS);
  process.on('message', async (m: { report?: boolean; otlpExports?: number }) => {
    if (!m.report) return;
    // Both stop before either reckons: the reckoning of one must not show as a stall in the other.
    const [stalls, steadyStalls = stalls] = await Promise.all([watch.stop(), steady?.stop()]);
    const sorted = [...scrapeMs].sort((a, b) => a - b);
    const dropped = Object.values(listener.stats.dropped).reduce((a, b) => a + b, 0);
    const report: ReceiverReport = {
      received: listener.stats.packetsReceived,
      accepted: listener.stats.accepted,
      dropped,
      kernelDrops: await kernel.read(),
      startupKernelDrops,
      up: listener.registry.counts().up,
      receiveBufferBytes: listener.receiveBufferBytes,
      scrapes: scrapeMs.length,
      scrapeMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
      longestStallMs: stalls.stallMs,
      codeStallMs: stalls.codeStallMs,
      steadyStallMs: steadyStalls.stallMs,
      steadyCodeStallMs: steadyStalls.codeStallMs,
      gcPauseMs: stalls.gcPauseMs,
      queued: listener.receiveQueue.total,
      queuedPeak: listener.receiveQueue.peak,
      otlpExports: 0,
    };
    send({ report });
    server.close();
    await listener.stop();
    process.exit(0);
  });
}

/** An OTLP/HTTP receiver that reads and discards each request, counting them. */
async function otlpSink(): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/v1/metrics`, requests: () => requests };
}

interface Outcome extends ReceiverReport {
  mode: string;
  sent: number;
  sendErrors: number;
  sendRate: number;
}

/**
 * Node flags for the receiver: the agent's own (its `#!` line, npm start and the image set the semi-space
 * size), plus any to look inside a run: VM_BENCH_RECEIVER_FLAGS='--trace-gc --cpu-prof'.
 */
function receiverFlags(): string[] {
  return [
    '--max-semi-space-size=16',
    ...(process.env.VM_BENCH_RECEIVER_FLAGS ?? '').split(' ').filter(Boolean),
  ];
}

async function orchestrate(mode: string, seconds: number, rate: number): Promise<void> {
  if (!process.env.VM_TEST_NETNS)
    throw new Error('scrape-loss must run inside a throwaway namespace (scripts/in-netns.sh)');
  const self = fileURLToPath(import.meta.url);
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const pinned = (cpu: number) => (cpus().length > 1 ? ['taskset', '-c', String(cpu)] : []);
  const sink = await otlpSink();
  const receiver = spawn(
    'nice',
    [
      '-n',
      '-20',
      ...(process.env.VM_BENCH_PIN_RECEIVER === '0' ? [] : pinned(0)),
      process.execPath,
      ...receiverFlags(),
      self,
      'receive',
      mode,
      sink.url,
    ],
    {
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  prioritise(receiver);
  const port = await new Promise<number>((resolve) =>
    receiver.once('message', (m: { ready: number }) => resolve(m.ready)),
  );
  const sender = spawn(
    'nice',
    [
      '-n',
      '-20',
      ...pinned(1),
      'python3',
      'bench/ingest/sender.py',
      ...['--group', GROUP, '--port', String(PORT), '--rate', String(rate)],
      ...[
        '--count',
        String(rate * seconds),
        '--services',
        String(SERVICES),
        '--max-seconds',
        String(seconds * 3),
      ],
    ],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  prioritise(sender);
  let senderOut = '';
  sender.stdout?.on('data', (c: Buffer) => {
    senderOut += c.toString('utf8');
  });
  const senderDone = new Promise<{ sent: number; seconds: number; rate: number }>((resolve, reject) =>
    sender.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(senderOut.trim().split('\n').at(-1) ?? '{}'))
        : reject(new Error(`sender exit ${code}`)),
    ),
  );
  let finished = false;
  void senderDone.finally(() => {
    finished = true;
  });
  // Prometheus scraping every second, one scrape at a time, asking for what Prometheus asks for.
  const scraping = (async () => {
    if (mode === 'none') return;
    while (!finished) {
      const t = performance.now();
      await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' },
        signal: AbortSignal.timeout(10_000), // Prometheus's default scrape timeout
      })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - t))));
    }
  })();
  const load = await senderDone;
  await scraping;
  await new Promise((r) => setTimeout(r, 500)); // let the receiver drain its socket buffer
  receiver.send({ report: true });
  const report = await new Promise<ReceiverReport>((resolve) =>
    receiver.once('message', (m: { report: ReceiverReport }) => resolve(m.report)),
  );
  sink.server.close();
  const outcome: Outcome = {
    mode,
    sent: load.sent,
    sendErrors: 0,
    sendRate: load.rate,
    ...report,
    otlpExports: sink.requests(),
  };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

const [role = '', a = '', b = '', c = ''] = process.argv.slice(2);
if (role === 'receive') await receive(a, b);
else if (role === 'orchestrate') await orchestrate(a, Number(b) || 5, Number(c) || 100_000);
else throw new Error('usage: scrape-loss.js orchestrate <none|ours|scrape|naive> <seconds> [rate]');
