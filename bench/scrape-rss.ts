/**
 * Run as its own process by scrape.bench.ts: the resident memory of a process holding one listener with
 * N live services and the /metrics handler (and with `otlp`, the OTLP producer and encoder too), after 20
 * scrapes (and 5 OTLP collections, each encoded request by request as the exporter sends it). Nothing else is loaded, so the figure is the agent's share rather than the benchmark's
 * garbage.   node --expose-gc dist/bench/scrape-rss.js 10000 [otlp]
 */
import { createMetricsHandler } from '../src/metrics/prometheus.js';
import { agentState, populatedListener } from './scrape-fixture.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const n = Number(process.argv[2] ?? 10_000);
const withOtlp = process.argv[3] === 'otlp';
const otlp = withOtlp
  ? {
      ...(await import('../src/metrics/otel-producer.js')),
      ...(await import('../src/metrics/otlp-batches.js')),
      ...(await import('../src/metrics/otlp-protobuf.js')),
      ...(await import('../src/metrics/byte-writer.js')),
    }
  : undefined;
gc();
const before = process.memoryUsage();
const state = agentState([populatedListener(n)], 10_000);
const handler = createMetricsHandler(state, { processMetrics: true });
// As the HTTP response takes it: chunk by chunk, never the whole body at once.
for (let i = 0; i < 20; i++) await handler.write(() => {});
if (otlp) {
  const producer = new otlp.AgentMetricProducer(state);
  for (let i = 0; i < 5; i++) {
    const { resourceMetrics } = await producer.collect();
    // One buffer per export, written over request by request, as the exporter does.
    const writer = new otlp.ByteWriter(0);
    for (const batch of otlp.splitExport(resourceMetrics)) otlp.encodeBatch(batch, writer);
  }
}
gc();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ services: n, otlp: withOtlp, rssBefore: before.rss, rss: after.rss, heapUsed: after.heapUsed, heapBefore: before.heapUsed })}\n`,
);
