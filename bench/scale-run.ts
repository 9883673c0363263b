/**
 * One size of the scale benchmark (scale.bench.ts), in a process of its own: N live services on a listener
 * (no socket), /metrics served by the agent's own handler on 127.0.0.1, scraped and exported to from processes of
 * their own (bench/scrape-client.ts, bench/otlp-sink.ts) as Prometheus and a collector are.
 *   node --expose-gc dist/bench/scale-run.js 100000      → one JSON line
 */
import { fork, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startOtlpExport } from '../src/metrics/otlp.js';
import { createMetricsHandler } from '../src/metrics/prometheus.js';
import { serveMetrics } from '../src/metrics/serve.js';
import { agentState, populatedListener } from './scrape-fixture.js';
import { cpuAndWall, LoopWatch, longestStallDuring, type Stalls, summary } from './stats.js';

const n = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const state = agentState([populatedListener(n)], n);
const handler = createMetricsHandler(state, { processMetrics: true });
const server = createServer((req, res) => void serveMetrics(req, res, handler));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
gc();

/**
 * Five cold scrapes of each kind from a scraper process (bench/scrape-client.ts), as Prometheus scrapes. The
 * event loop is watched from when the scraper runs until it exits: starting it (spawn) is the bench's work.
 */
async function scrapeFromAnotherProcess(): Promise<ScrapeReport & Stalls> {
  const client = spawn(
    process.execPath,
    [fileURLToPath(new URL('./scrape-client.js', import.meta.url)), url, '5', '1000'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const watch = new LoopWatch().start();
  let out = '';
  client.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const code = await new Promise<number | null>((r) => client.once('exit', r));
  const stalls = await watch.stop();
  if (code !== 0) throw new Error(`scrape client exited with ${code}`);
  return { ...(JSON.parse(out) as ScrapeReport), ...stalls };
}

interface ScrapeReport {
  gzipMs: number[];
  textMs: number[];
  gzipBytes: number;
  bodyBytes: number;
}

const {
  gzipMs: gzipRuns,
  textMs: textRuns,
  gzipBytes,
  bodyBytes,
  stallMs: scrapeStallMs,
  codeStallMs: scrapeCodeStallMs,
} = await scrapeFromAnotherProcess();

gc();
const rssScrapes = process.memoryUsage().rss;

/** An OTLP receiver in another process (bench/otlp-sink.ts), as a collector is. */
const sink = fork(fileURLToPath(new URL('./otlp-sink.js', import.meta.url)), [], { stdio: 'inherit' });
const sinkPort = await new Promise<number>((r) => sink.once('message', (m: { port: number }) => r(m.port)));
const sinkBytes = () =>
  new Promise<number>((r) => {
    sink.once('message', (m: { bytes: number }) => r(m.bytes));
    sink.send('bytes');
  });
const otlp = startOtlpExport(state, {
  endpoint: `http://127.0.0.1:${sinkPort}/v1/metrics`,
  intervalMs: 600_000,
  headers: {},
});
await otlp.forceFlush(); // loads the SDK and encodes every attribute set once, as the first export does
const otlpCpu: number[] = [];
const otlpWall: number[] = [];
let otlpStallMs = 0;
let otlpCodeStallMs = 0;
for (let i = 0; i < 3; i++) {
  await pause(1000);
  await sinkBytes();
  // Only the export is watched: asking the sink for its count is the bench's work.
  const {
    result: r,
    stallMs,
    codeStallMs,
  } = await longestStallDuring(() => cpuAndWall(() => otlp.forceFlush()));
  otlpCpu.push(r.cpu);
  otlpWall.push(r.wall);
  otlpStallMs = Math.max(otlpStallMs, stallMs);
  otlpCodeStallMs = Math.max(otlpCodeStallMs, codeStallMs);
}
const otlpBytes = await sinkBytes();
await otlp.shutdown();
sink.disconnect();
gc();
const rss = process.memoryUsage().rss;
server.close();
process.stdout.write(
  `${JSON.stringify({
    services: n,
    scrapeGzipMs: summary(gzipRuns).median,
    scrapeTextMs: summary(textRuns).median,
    scrapeStallMs,
    scrapeCodeStallMs,
    bodyBytes,
    gzipBytes,
    otlpCpuMs: summary(otlpCpu).median,
    otlpWallMs: summary(otlpWall).median,
    otlpStallMs,
    otlpCodeStallMs,
    otlpBytes,
    rssScrapes,
    rss,
  })}\n`,
);
process.exit(0);
