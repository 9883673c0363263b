import { createRequire } from 'node:module';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OtlpProtocol } from '../../src/agent/config/types.js';
import { DROP_REASONS } from '../../src/discovery/drop-reasons.js';
import { METRICS } from '../../src/metrics/names.js';
import { otelName } from '../../src/metrics/otel-names.js';
import { AgentMetricProducer } from '../../src/metrics/otel-producer.js';
import { loadOtlpPipeline, type OtlpExport, startOtlpExport } from '../../src/metrics/otlp.js';
import { type ExportBatch, expandBatch, splitExport } from '../../src/metrics/otlp-batches.js';
import { encodeBatch } from '../../src/metrics/otlp-protobuf.js';
import { createMetricsHandler } from '../../src/metrics/prometheus.js';
import { find, parseExposition } from './exposition.js';
import { FakeState } from './fakes.js';
import { decodeMetricsRequest, mergeRequests } from './otlp-protobuf.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

let receiver: OtlpReceiver;
let exporter: OtlpExport | undefined;

beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  await receiver.close();
});

function start(state: FakeState, protocol?: OtlpProtocol): OtlpExport {
  // A long interval: exports happen when the test flushes, never on a timer racing the assertions.
  exporter = startOtlpExport(state, {
    endpoint: receiver.url,
    intervalMs: 600_000,
    headers: { 'x-tenant': 't1' },
    protocol,
  });
  return exporter;
}

/** One collection: the requests it was split into (at most 2,500 points each), merged. */
async function exportOnce(exp: OtlpExport) {
  const before = receiver.requests.length;
  await exp.forceFlush();
  const requests = receiver.requests.slice(before);
  const first = requests[0];
  if (!first) throw new Error('no export received');
  return { ...first, points: requests.flatMap((r) => r.points) };
}

describe('startOtlpExport', () => {
  it.each([
    [undefined, 'application/x-protobuf'],
    ['http/protobuf', 'application/x-protobuf'],
    ['http/json', 'application/json'],
  ] as const)(
    'sends %s (%s) over HTTP with the configured headers and names that map onto the Prometheus ones',
    async (protocol, contentType) => {
      const state = new FakeState();
      const lan = state.addListener('lan');
      lan.stats.packetsReceived = 7;
      lan.stats.bytesReceived = 700;
      const rec = lan.registry.add({
        type: 'VaultLibrary',
        name: 'a',
        addr: '10.0.0.1:8200',
        version: '2.0',
        ageSeconds: 0.5,
      });
      const exp = start(state, protocol);
      const req = await exportOnce(exp);
      expect(req.contentType).toBe(contentType);
      expect(req.headers['x-tenant']).toBe('t1');
      expect(req.resource['service.name']).toBe('vault-multicast-agent');

      const received = req.points.find((p) => p.metric === 'vault_multicast_received_packets');
      expect(received).toMatchObject({ kind: 'sum', monotonic: true, value: 7 });
      expect(received?.attributes).toEqual({ listener: 'lan', group: '224.1.1.1', port: '5004' });
      expect(req.points.find((p) => p.metric === 'vault_multicast_received_bytes')?.unit).toBe('By');
      const up = req.points.filter((p) => p.metric === 'vault_multicast_service_up');
      expect(up).toHaveLength(1);
      expect(up[0]).toMatchObject({ kind: 'gauge', value: 1 });
      expect(up[0]?.attributes.service_name).toBe('a');
      const info = req.points.find((p) => p.metric === 'vault_multicast_service_info');
      expect(info?.attributes.version).toBe('2.0');
      // An upgrade in place (same record, new version) shows in the next export, with no stale version left.
      rec.version = '2.1';
      const upgraded = (await exportOnce(exp)).points.filter(
        (p) => p.metric === 'vault_multicast_service_info',
      );
      expect(upgraded.map((p) => p.attributes.version)).toEqual(['2.1']);
      const dropped = req.points.filter((p) => p.metric === 'vault_multicast_dropped_packets');
      expect(dropped.map((p) => p.attributes.reason).sort()).toEqual([...DROP_REASONS].sort());

      // Every exported OTel name is the Prometheus name, minus _total on counters.
      const promNames = new Set(Object.values(METRICS).map((d) => d.name));
      for (const p of req.points) {
        const prom = p.kind === 'sum' ? `${p.metric}_total` : p.metric;
        expect(promNames.has(prom), prom).toBe(true);
      }
    },
  );

  it('stops exporting a forgotten service and a removed listener (opentelemetry-js#4096), as /metrics does', async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    const other = state.addListener('other', '224.1.1.2');
    lan.registry.add({ type: 'VaultLibrary', name: 'keep', addr: '10.0.0.1:8200' });
    const doomed = lan.registry.add({ type: 'VaultLibrary', name: 'doomed', addr: '10.0.0.2:8200' });
    other.registry.add({ type: 'VaultLibrary', name: 'elsewhere', addr: '10.0.0.3:8200' });
    const exp = start(state);
    const metrics = createMetricsHandler(state, { processMetrics: false });
    const upNames = (points: { metric: string; attributes: Record<string, unknown> }[]) =>
      points
        .filter((p) => p.metric === otelName(METRICS.serviceUp))
        .map((p) => p.attributes.service_name)
        .sort();

    expect(upNames((await exportOnce(exp)).points)).toEqual(['doomed', 'elsewhere', 'keep']);

    // Expired: still exported, as 0, during retention.
    doomed.state = 'stale';
    const stale = await exportOnce(exp);
    expect(
      stale.points.find((p) => p.attributes.service_name === 'doomed' && p.metric.endsWith('service_up'))
        ?.value,
    ).toBe(0);

    // Forgotten by the registry: gone from both exports.
    lan.registry.records.delete(doomed.key);
    const after = await exportOnce(exp);
    expect(upNames(after.points)).toEqual(['elsewhere', 'keep']);
    expect(after.points.filter((p) => p.attributes.service_name === 'doomed')).toEqual([]);
    const prom = parseExposition(await metrics.render());
    expect(find(prom, METRICS.serviceUp.name, { service_name: 'doomed' })).toEqual([]);

    // A listener removed by a reload takes all its series with it.
    state.listenerEntries.delete('other');
    const removed = await exportOnce(exp);
    expect(removed.points.filter((p) => p.attributes.listener === 'other')).toEqual([]);
    expect(upNames(removed.points)).toEqual(['keep']);
  });

  it('exports every service past the SDK default of 2,000 series, without an overflow series', async () => {
    const state = new FakeState(3000);
    const lan = state.addListener('lan');
    for (let i = 0; i < 2500; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.1.${i >> 8}.${i & 255}:1` });
    const before = receiver.requests.length;
    const req = await exportOnce(start(state));
    // Split into requests of at most 2,500 points, so no single serialization stalls the agent.
    const sizes = receiver.requests.slice(before).map((r) => r.points.length);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2500);
    const up = req.points.filter((p) => p.metric === otelName(METRICS.serviceUp));
    expect(up).toHaveLength(2500);
    expect(req.points.filter((p) => 'otel.metric.overflow' in p.attributes)).toEqual([]);
    expect(new Set(up.map((p) => p.attributes.service_name)).size).toBe(2500);
  });

  it("starts an exporter's life with small requests, doubling up to 2,500 points (cold code encodes slowly)", async () => {
    const state = new FakeState(3000);
    const lan = state.addListener('lan');
    for (let i = 0; i < 2500; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.1.${i >> 8}.${i & 255}:1`, ageSeconds: 0.5 });
    const exp = start(state);
    const sizesOfNextExport = async () => {
      const before = receiver.requests.length;
      await exp.forceFlush();
      return receiver.requests.slice(before).map((r) => r.points.length);
    };
    const first = await sizesOfNextExport();
    // 250, 500, 1,000, 2,000 points at most (a request holds whole services), then 2,500.
    first.forEach((size, i) => {
      expect(size).toBeLessThanOrEqual(Math.min(2500, 250 * 2 ** i));
    });
    expect(first.slice(1, 4).every((size, i) => size > 125 * 2 ** (i + 1))).toBe(true);
    expect(first.reduce((a, b) => a + b, 0)).toBeGreaterThan(2500 * 5);
    // Warm: the next export goes straight to full requests.
    const second = await sizesOfNextExport();
    expect(second.length).toBeLessThan(first.length);
    expect(second.slice(0, -1).every((size) => size > 2000 && size <= 2500)).toBe(true);
  });

  it('loads the pipeline and runs the encoder once without opening a socket or sending anything', async () => {
    const udpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    const before = { udp: udpSockets(), requests: receiver.requests.length };
    await loadOtlpPipeline();
    expect(udpSockets()).toBe(before.udp);
    expect(receiver.requests.length).toBe(before.requests);
  });

  it('shares one copy of @opentelemetry/sdk-metrics with the OTLP transformer (it reads our data points)', () => {
    const root = createRequire(import.meta.url);
    const ours = root.resolve('@opentelemetry/sdk-metrics/package.json');
    const from = createRequire(root.resolve('@opentelemetry/otlp-transformer/package.json'));
    expect(from.resolve('@opentelemetry/sdk-metrics/package.json')).toBe(ours);
  });

  it("encodes protobuf as the SDK's own serializer does, hostile strings, doubles and large counts included", async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    const other = state.addListener('other \ud800', '224.1.1.2');
    lan.stats.packetsReceived = 2 ** 40 + 3;
    lan.registry.add({ type: 'T', name: 'nul\u0000 "q" \\ ü 😀', addr: '10.0.0.1:1', ageSeconds: -0.125 });
    const renamed = lan.registry.add({
      type: 'T',
      name: 'lone \ud800',
      addr: '10.0.0.2:1',
      version: '\udfff',
      lost: 2 ** 53 + 2,
    });
    for (let i = 0; i < 7; i++)
      other.registry.add({
        type: 'U',
        name: `s${i}`,
        addr: `10.0.1.${i}:1`,
        version: i % 2 ? '1.0' : undefined,
        ageSeconds: i % 3 ? i / 3 : undefined,
        lost: i,
        state: i === 4 ? 'stale' : 'up',
        lastSeenWallMs: 1_700_000_000_123.5 + i,
      });
    const producer = new AgentMetricProducer(state);
    const resource = resourceFromAttributes({ 'service.name': 'x', 'process.pid': 42, ok: true, ratio: 0.5 });
    const compare = async () => {
      const collected = await producer.collect();
      const rm = { resource, scopeMetrics: collected.resourceMetrics.scopeMetrics };
      // Requests of at most 12 points: the services of both listeners split across several requests.
      const requests = [...splitExport(rm, 12)].map((b) => decodeMetricsRequest(Buffer.from(encodeBatch(b))));
      // The reference: the whole export as one request of real data points, through the SDK's serializer.
      const [whole, ...more] = [...splitExport(rm, Number.POSITIVE_INFINITY)];
      if (!whole || more.length > 0) throw new Error('expected the export as one request');
      const sdk = decodeMetricsRequest(
        Buffer.from(ProtobufMetricsSerializer.serializeRequest(expandBatch(whole)) ?? []),
      );
      expect(requests.length).toBeGreaterThan(4);
      const ours = mergeRequests(requests);
      expect(ours.scopeMetrics[0]?.metrics.length).toBeGreaterThan(20);
      expect(ours).toEqual(mergeRequests([sdk]));
      return ours;
    };
    const before = BigInt(Date.now()) * 1_000_000n;
    const first = await compare();
    const metrics = first.scopeMetrics[0]?.metrics ?? [];
    const info = metrics.find((m) => m.name === otelName(METRICS.serviceInfo));
    expect(info?.gauge?.dataPoints).toHaveLength(9);
    // Sums count from the agent's start; a gauge starts and ends at the collection.
    const lost = metrics.find((m) => m.name === otelName(METRICS.serviceLost));
    expect(lost?.sum?.aggregationTemporality).toBe(2 /* CUMULATIVE */);
    for (const p of lost?.sum?.dataPoints ?? [])
      expect(p.startTimeUnixNano).toBe(`${state.startedWallMs}000000`);
    for (const p of info?.gauge?.dataPoints ?? []) {
      expect(p.startTimeUnixNano).toBe(p.timeUnixNano);
      expect(BigInt(p.timeUnixNano ?? 0) >= before).toBe(true);
    }

    // A record that changes in place (a rename, an upgrade) is encoded anew, not from what was kept of it.
    renamed.name = 'now well-formed';
    renamed.version = '3.0';
    const second = await compare();
    const names = second.scopeMetrics[0]?.metrics
      .find((m) => m.name === otelName(METRICS.serviceInfo))
      ?.gauge?.dataPoints.map((p) => p.attributes.map((a) => a.value.stringValue).join('|'));
    expect(names).toContain('lan|224.1.1.1|5004|T|now well-formed|10.0.0.2:1|3.0');
  });

  it("sends the MeterProvider's own instruments in the first request, histograms through the SDK's serializer", async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    for (let i = 0; i < 6; i++) lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.0.0.${i}:1` });
    // As the pipeline's reader collects: the SDK's instruments and the producer's data in one ResourceMetrics.
    class PullReader extends MetricReader {
      protected override async onShutdown(): Promise<void> {}
      protected override async onForceFlush(): Promise<void> {}
    }
    const reader = new PullReader({ metricProducers: [new AgentMetricProducer(state)] });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('app');
    meter.createCounter('app_requests').add(3, { route: '/x' });
    meter.createHistogram('app_latency').record(0.25);
    const { resourceMetrics } = await reader.collect();
    const batches = [...splitExport(resourceMetrics, 12)];
    const first = decodeMetricsRequest(Buffer.from(encodeBatch(batches[0] as ExportBatch)));
    const firstNames = first.resourceMetrics.flatMap((rm) =>
      rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.name)),
    );
    expect(firstNames).toEqual(
      expect.arrayContaining(['app_requests', 'app_latency', otelName(METRICS.receivedPackets)]),
    );
    // A histogram is the SDK serializer's to write: that request carries no service.
    expect(firstNames).not.toContain(otelName(METRICS.serviceUp));
    const ours = mergeRequests(batches.map((b) => decodeMetricsRequest(Buffer.from(encodeBatch(b)))));
    const up = ours.scopeMetrics
      .flatMap((sm) => sm.metrics)
      .find((m) => m.name === otelName(METRICS.serviceUp));
    expect(up?.gauge?.dataPoints).toHaveLength(6);
    const counter = ours.scopeMetrics.flatMap((sm) => sm.metrics).find((m) => m.name === 'app_requests');
    expect(counter?.sum?.dataPoints.map((p) => p.asDouble ?? Number(p.asInt))).toEqual([3]);
    await provider.shutdown();
  });

  it.each(['http/protobuf', 'http/json'] as const)(
    'sends an export at a few thousand services as several %s requests that hold every service exactly once',
    async (protocol) => {
      const state = new FakeState(10_000);
      const listeners = [state.addListener('a'), state.addListener('b', '224.1.1.2')];
      listeners.forEach((l, n) => {
        for (let i = 0; i < 1800; i++)
          l.registry.add({
            type: 'T',
            name: `${n}-${i}`,
            addr: `10.${n}.${i >> 8}.${i & 255}:1`,
            ageSeconds: 0.5,
          });
      });
      const exp = start(state, protocol);
      const before = receiver.requests.length;
      await exp.forceFlush();
      const requests = receiver.requests.slice(before);
      expect(requests.length).toBeGreaterThanOrEqual(3600 / 500);
      for (const r of requests) {
        expect(r.points.length).toBeLessThanOrEqual(2500);
        expect(r.resource['service.name']).toBe('vault-multicast-agent');
      }
      const points = requests.flatMap((r) => r.points);
      const expected = listeners
        .flatMap((l, n) =>
          Array.from({ length: 1800 }, (_, i) => `${l === listeners[0] ? 'a' : 'b'}/${n}-${i}`),
        )
        .sort();
      for (const def of [
        METRICS.serviceUp,
        METRICS.serviceLastSeen,
        METRICS.serviceInfo,
        METRICS.serviceAge,
        METRICS.serviceLost,
      ]) {
        const seen = points
          .filter((p) => p.metric === otelName(def))
          .map((p) => `${p.attributes.listener}/${p.attributes.service_name}`)
          .sort();
        expect(seen, def.name).toEqual(expected);
      }
      // The families that are not per service come once, in the first request.
      const received = points.filter((p) => p.metric === otelName(METRICS.receivedPackets));
      expect(received.map((p) => p.attributes.listener).sort()).toEqual(['a', 'b']);
      expect(requests[0]?.points.some((p) => p.metric === otelName(METRICS.receivedPackets))).toBe(true);
    },
  );

  it('stops an export at the first request the collector refuses, and sends the next export whole', async () => {
    await receiver.close();
    let refusing = true;
    receiver = await startOtlpReceiver({ refuse: (n) => refusing && n === 2 });
    const state = new FakeState(10_000);
    const lan = state.addListener('lan');
    for (let i = 0; i < 3000; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.1.${i >> 8}.${i & 255}:1` });
    const exp = start(state);
    await exp.forceFlush();
    // The first was taken, the second refused, and none of the four or so after it was sent.
    expect(receiver.requests).toHaveLength(1);
    refusing = false;
    const whole = await exportOnce(exp);
    expect(whole.points.filter((p) => p.metric === otelName(METRICS.serviceUp))).toHaveLength(3000);
  });

  it('sends hostile service strings as valid UTF-8 text', async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    lan.registry.add({ type: 'T', name: 'nul\u0000 \u001b[31m "q" \\ \n', addr: '10.0.0.1:1' });
    lan.registry.add({ type: 'T', name: 'lone \ud800', addr: '10.0.0.2:1', version: '\udfff' });
    const req = await exportOnce(start(state));
    const info = req.points.filter((p) => p.metric === otelName(METRICS.serviceInfo));
    expect(info.map((p) => [p.attributes.service_name, p.attributes.version])).toEqual([
      ['nul\u0000 \u001b[31m "q" \\ \n', ''],
      ['lone \ufffd', '\ufffd'],
    ]);
  });
});
