/**
 * Packet loss while /metrics is scraped: a real listener receiving 100,000 announcements/s for 10,000 live
 * services on loopback multicast, its /metrics served over HTTP and fetched every second, the sender in
 * another process. Must run inside a network namespace (scrape.bench.ts starts it through
 * scripts/in-netns.sh); it refuses to run outside one.
 *
 *   node dist/bench/scrape-loss.js orchestrate <mode> <seconds> [rate]    mode: none | ours | naive
 *
 * Roles (the same file, selected by argv[2]): `orchestrate` starts a `receive` child and the ingest
 * benchmark's paced sender (bench/ingest/sender.py, UDP segmentation offload, so the sender is never the
 * bottleneck), and scrapes; `receive` runs the listener and the HTTP endpoint. As in the ingest benchmark, the
 * receiver and the sender each run in a session of their own with the top autogroup weight, pinned to CPU 0
 * and CPU 1, so other sessions on a shared machine do not decide the result.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createMetricsHandler } from '../src/agent/metrics/prometheus.js';
import { VaultMultiListener } from '../src/listener.js';
import { KernelDropCounter } from '../src/net/proc-udp.js';
import { agentState, benchListenerConfig, GROUP, naivePromClient } from './scrape-fixture.js';

const SERVICES = 10_000;
const PORT = 5099;

interface ReceiverReport {
  received: number;
  accepted: number;
  dropped: number;
  kernelDrops: number | undefined;
  up: number;
  receiveBufferBytes: number | undefined;
  scrapes: number;
  scrapeMsMedian: number;
}

function send(msg: unknown): void {
  process.send?.(msg);
}

async function receive(mode: string): Promise<void> {
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
  const render = mode === 'naive' ? naive : () => ours.renderBuffer();
  const scrapeMs: number[] = [];
  const server = createServer((_req, res) => {
    const t0 = performance.now();
    void render().then((body) => {
      scrapeMs.push(performance.now() - t0);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  send({ ready: (server.address() as AddressInfo).port });
  process.on('message', async (m: { report?: boolean }) => {
    if (!m.report) return;
    const sorted = [...scrapeMs].sort((a, b) => a - b);
    const dropped = Object.values(listener.stats.dropped).reduce((a, b) => a + b, 0);
    const report: ReceiverReport = {
      received: listener.stats.packetsReceived,
      accepted: listener.stats.accepted,
      dropped,
      kernelDrops: await kernel.read(),
      up: listener.registry.counts().up,
      receiveBufferBytes: listener.receiveBufferBytes,
      scrapes: scrapeMs.length,
      scrapeMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
    };
    send({ report });
    server.close();
    await listener.stop();
    process.exit(0);
  });
}

interface Outcome extends ReceiverReport {
  mode: string;
  sent: number;
  sendErrors: number;
  sendRate: number;
}

/** Own session (hence autogroup) with the top weight; nice alone does not rank across sessions. */
function prioritise(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    writeFileSync(`/proc/${child.pid}/autogroup`, '-20');
  } catch {
    // No autogroups here: the plain nice of the command line still applies.
  }
}

async function orchestrate(mode: string, seconds: number, rate: number): Promise<void> {
  if (!process.env.VM_TEST_NETNS)
    throw new Error('scrape-loss must run inside a throwaway namespace (scripts/in-netns.sh)');
  const self = fileURLToPath(import.meta.url);
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const pinned = (cpu: number) => (cpus().length > 1 ? ['taskset', '-c', String(cpu)] : []);
  const receiver = spawn('nice', ['-n', '-20', ...pinned(0), process.execPath, self, 'receive', mode], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
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
  // Prometheus scraping every second, one scrape at a time.
  const scraping = (async () => {
    if (mode === 'none') return;
    while (!finished) {
      const t = performance.now();
      await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.arrayBuffer());
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
  const outcome: Outcome = { mode, sent: load.sent, sendErrors: 0, sendRate: load.rate, ...report };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

const [role = '', a = '', b = '', c = ''] = process.argv.slice(2);
if (role === 'receive') await receive(a);
else if (role === 'orchestrate') await orchestrate(a, Number(b) || 5, Number(c) || 100_000);
else throw new Error('usage: scrape-loss.js orchestrate <none|ours|naive> <seconds> [rate]');
