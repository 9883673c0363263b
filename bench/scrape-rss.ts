/**
 * Run as its own process by scrape.bench.ts: the resident memory of a process holding one listener with
 * 10,000 live services and both exporters, after scrapes and OTLP collections (nothing else loaded, so the
 * figure is the agent's share rather than the benchmark's garbage).
 */
import { AgentMetricProducer } from '../src/agent/metrics/otel-producer.js';
import { createMetricsHandler } from '../src/agent/metrics/prometheus.js';
import { agentState, populatedListener } from './scrape-fixture.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
gc();
const before = process.memoryUsage();
const n = Number(process.argv[2] ?? 10_000);
const state = agentState([populatedListener(n)], 10_000);
const handler = createMetricsHandler(state, { processMetrics: true });
const producer = new AgentMetricProducer(state);
for (let i = 0; i < 20; i++) Buffer.from(await handler.render());
for (let i = 0; i < 5; i++) await producer.collect();
gc();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ services: n, rssBefore: before.rss, rss: after.rss, heapUsed: after.heapUsed, heapBefore: before.heapUsed })}\n`,
);
