/**
 * Packet loss while /metrics is scraped: a real listener receiving 100,000 announcements/s for 10,000 live
 * services on loopback multicast, its /metrics served over HTTP and fetched every second, the sender in
 * another process. Must run inside a network namespace (scrape.bench.ts starts it through
 * scripts/in-netns.sh); it refuses to run outside one.
 *
 *   node dist/bench/scrape-loss.js orchestrate <mode> <seconds>    mode: none | ours | naive
 *
 * Roles (the same file, selected by argv[2]): `orchestrate` starts a `receive` child and a `send` child and
 * scrapes; `receive` runs the listener and the HTTP endpoint; `send` paces datagrams.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createMetricsHandler } from '../src/agent/metrics/prometheus.js';
import { VaultMultiListener } from '../src/listener.js';
import { KernelDropCounter } from '../src/net/proc-udp.js';
import {
  agentState,
  benchListenerConfig,
  GROUP,
  naivePromClient,
  serviceAnnouncement,
} from './scrape-fixture.js';

const SERVICES = 10_000;
const RATE = 100_000;
const TICK_MS = 5;
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

async function sendLoad(seconds: number): Promise<void> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  socket.setMulticastInterface('127.0.0.1');
  socket.setMulticastLoopback(true);
  const payloads = Array.from({ length: SERVICES }, (_, i) => serviceAnnouncement(i, 1));
  const perTick = (RATE * TICK_MS) / 1000;
  const total = RATE * seconds;
  let queued = 0;
  let sent = 0;
  let errors = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      // Catch up to the schedule: the pace is set by the clock, not by how often the timer fires.
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + perTick);
      while (queued < due) {
        const p = payloads[queued % SERVICES] as Buffer;
        queued++;
        socket.send(p, PORT, GROUP, (err) => {
          if (err) errors++;
          else sent++;
          if (sent + errors === total) resolve();
        });
      }
      if (queued < total) setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const seconds_ = (performance.now() - t0) / 1000;
  socket.close();
  send({ sent, errors, rate: sent / seconds_ });
}

interface Outcome extends ReceiverReport {
  mode: string;
  sent: number;
  sendErrors: number;
  sendRate: number;
}

async function orchestrate(mode: string, seconds: number): Promise<void> {
  if (!process.env.VM_TEST_NETNS)
    throw new Error('scrape-loss must run inside a throwaway namespace (scripts/in-netns.sh)');
  const self = fileURLToPath(import.meta.url);
  const receiver = fork(self, ['receive', mode], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) =>
    receiver.once('message', (m: { ready: number }) => resolve(m.ready)),
  );
  const sender = fork(self, ['send', String(seconds)], { stdio: 'inherit' });
  const senderDone = new Promise<{ sent: number; errors: number; rate: number }>((resolve) =>
    sender.once('message', (m: { sent: number; errors: number; rate: number }) => resolve(m)),
  );
  let finished = false;
  void senderDone.then(() => {
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
  const outcome: Outcome = { mode, sent: load.sent, sendErrors: load.errors, sendRate: load.rate, ...report };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

const [role = '', a = '', b = ''] = process.argv.slice(2);
if (role === 'receive') await receive(a);
else if (role === 'send') await sendLoad(Number(a));
else if (role === 'orchestrate') await orchestrate(a, Number(b) || 5);
else throw new Error('usage: scrape-loss.js orchestrate <none|ours|naive> <seconds>');
