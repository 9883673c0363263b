/**
 * One size of the memory benchmark (memory.bench.ts), in a process of its own: the heap a service costs,
 * stage by stage. The services enter through listener.ingest(), the receive path a socket feeds; then one
 * /metrics scrape and one OTLP export (protobuf) build what the agent keeps per service between them.
 *   node --expose-gc dist/bench/memory-run.js 100000 [sources] [snapshot.heapsnapshot]  → one JSON line
 * `sources`: how many sender addresses the services come from (default 1; N gives each its own host).
 */
import { writeHeapSnapshot } from 'node:v8';
import type { SourceInfo } from '../src/discovery/types.js';
import { ByteWriter } from '../src/metrics/byte-writer.js';
import { AgentMetricProducer } from '../src/metrics/otel-producer.js';
import { splitExport } from '../src/metrics/otlp-batches.js';
import { encodeBatch } from '../src/metrics/otlp-protobuf.js';
import { createMetricsHandler } from '../src/metrics/prometheus.js';
import { agentState, populatedListener, serviceAnnouncement } from './scrape-fixture.js';

const n = Number(process.argv[2] ?? 10_000);
const sources = Math.max(1, Math.min(n, Number(process.argv[3] ?? 1)));
const snapshotPath = process.argv[4];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Heap and external memory (buffers) after two full collections (the second catches what the first one's finalisers freed). */
function heap(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const entry = populatedListener(0);
entry.listener.registry.configure({ maxServices: Math.max(n, 1) });
const state = agentState([entry], Math.max(n, 1));
const handler = createMetricsHandler(state, { processMetrics: true });
const producer = new AgentMetricProducer(state);
const scrape = () => handler.write(() => {}, 'openmetrics');
const exportOtlp = async () => {
  const { resourceMetrics } = await producer.collect();
  // One buffer per export, written over request by request, as the exporter does.
  const writer = new ByteWriter(0);
  for (const batch of splitExport(resourceMetrics)) encodeBatch(batch, writer);
};
// Everything loaded and compiled once, with no service: what is measured next is per service only.
await scrape();
await exportOtlp();
const empty = heap();
const emptyRss = process.memoryUsage().rss;

function source(i: number): SourceInfo {
  const h = i % sources;
  return {
    address: `10.${(h >> 16) & 255}.${(h >> 8) & 255}.${h & 255}`,
    port: 5004,
    family: 'IPv4',
    size: 0,
  };
}
let bytes = 0;
for (let i = 0; i < n; i++) {
  const datagram = serviceAnnouncement(i, 1);
  bytes += datagram.length;
  entry.listener.ingest(datagram, { ...source(i), size: datagram.length });
}
// A second announcement from every service, as a running registry holds them (seq 2, a fresh timestamp).
for (let i = 0; i < n; i++) {
  const datagram = serviceAnnouncement(i, 2);
  entry.listener.ingest(datagram, { ...source(i), size: datagram.length });
}
const tracked = entry.listener.registry.size;
if (tracked !== n) throw new Error(`registry holds ${tracked} services, expected ${n}`);
const registry = heap();
await scrape();
const scraped = heap();
await exportOtlp();
const exported = heap();
const rss = process.memoryUsage().rss;
if (snapshotPath) writeHeapSnapshot(snapshotPath);
const per = (b: number) => (n === 0 ? 0 : Math.round(b / n));
process.stdout.write(
  `${JSON.stringify({
    services: n,
    sources,
    datagramBytes: per(bytes),
    registryPerService: per(registry - empty),
    metricsPerService: per(scraped - registry),
    otlpPerService: per(exported - scraped),
    totalPerService: per(exported - empty),
    emptyHeap: empty,
    heap: exported,
    emptyRss,
    rss,
  })}\n`,
);
process.exit(0);
