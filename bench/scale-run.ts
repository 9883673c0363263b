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
import { loadOtlpPipeline, startOtlpExport } from '../src/metrics/otlp.js';
import { prepareServiceAttributes } from '../src/metrics/otlp-protobuf-services.js';
import { createMetricsHandler } from '../src/metrics/prometheus.js';
import { serveMetrics } from '../src/metrics/serve.js';
import { prepareServiceLabels } from '../src/metrics/service-series.js';
import { agentState, populatedListener } from './scrape-fixture.js';
import { cpuAndWall, LoopWatch, longestStallDuring, type Stalls, summary } from './stats.js';

const n = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// As an agent that exports OTLP (protobuf) prepares a service's bytes for both exports when it comes up.
const state = agentState(
  [
    populatedListener(n, 5004, (rec) => {
      prepareServiceLabels(rec);
      prepareServiceAttributes(rec);
    }),
  ],
  n,
);
const handler = createMetricsHandler(state, { processMetrics: true });
const server = createServer((req, res) => void serveMetrics(req, res, handler));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
gc();

/**
 * `rounds` cold scrapes of each kind from a scraper process (bench/scrape-client.ts), as Prometheus scrapes.
 * The event loop is watched from when the scraper runs until it exits: starting it (spawn) is the bench's work.
 */
async function scrapeFromAnotherProcess(rounds: number): Promise<ScrapeReport & Stalls> {
  const client = spawn(
    process.execPath,
    [fileURLToPath(new URL('./scrape-client.js', import.meta.url)), url, String(rounds), '1000'],
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

// The process's first scrape of each kind runs code not yet compiled (Node's HTTP server and zlib included):
// its stalls are reported apart from those of the five rounds after it.
const { stallMs: firstScrapeStallMs, codeStallMs: firstScrapeCodeStallMs } =
  await scrapeFromAnotherProcess(1);
const {
  gzipMs: gzipRuns,
  textMs: textRuns,
  gzipBytes,
  bodyBytes,
  stallMs: scrapeStallMs,
  codeStallMs: scrapeCodeStallMs,
} = await scrapeFromAnotherProcess(5);

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
await loadOtlpPipeline(); // as the agent loads it at start, before its listeners receive
const otlp = startOtlpExport(state, {
  endpoint: `http://127.0.0.1:${sinkPort}/v1/metrics`,
  intervalMs: 600_000,
  headers: {},
});
const otlpCpu: number[] = [];
const otlpWall: number[] = [];
let otlpStallMs = 0;
let otlpCodeStallMs = 0;
let firstOtlpStallMs = 0;
let firstOtlpCodeStallMs = 0;
// Four exports: the first (cold code: the SDK's transport and Node's HTTP client are set up on first use) is
// reported apart; CPU, wall and stalls of the three after it.
for (let i = 0; i < 4; i++) {
  await pause(1000);
  await sinkBytes();
  // Only the export is watched: asking the sink for its count is the bench's work.
  const {
    result: r,
    stallMs,
    codeStallMs,
  } = await longestStallDuring(() => cpuAndWall(() => otlp.forceFlush()));
  if (i === 0) {
    firstOtlpStallMs = stallMs;
    firstOtlpCodeStallMs = codeStallMs;
    continue;
  }
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
    firstScrapeStallMs,
    firstScrapeCodeStallMs,
    bodyBytes,
    gzipBytes,
    otlpCpuMs: summary(otlpCpu).median,
    otlpWallMs: summary(otlpWall).median,
    otlpStallMs,
    otlpCodeStallMs,
    firstOtlpStallMs,
    firstOtlpCodeStallMs,
    otlpBytes,
    rssScrapes,
    rss,
  })}\n`,
);
process.exit(0);
