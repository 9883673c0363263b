import type { Meter } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { decodeAnnouncement, encodeAnnouncement } from '../../src/discovery/codec.js';
import { DROP_REASONS } from '../../src/discovery/drop-reasons.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { instrumentListener } from '../../src/metrics/otel-instruments.js';

/** A pull reader: the test decides when the SDK collects. */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function collect(reader: PullReader) {
  const { resourceMetrics } = await reader.collect();
  const rows: { name: string; type: DataPointType; attributes: Record<string, unknown>; value: number }[] =
    [];
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      for (const dp of (m as SumMetricData).dataPoints) {
        rows.push({
          name: m.descriptor.name,
          type: m.dataPointType,
          attributes: dp.attributes,
          value: dp.value,
        });
      }
    }
  }
  return rows;
}

function setup(): { meter: Meter; reader: PullReader; provider: MeterProvider } {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { meter: provider.getMeter('app'), reader, provider };
}

describe('library OpenTelemetry instruments', () => {
  it('reports a listener and a publisher on the application meter with the agent names', async () => {
    const { meter, reader, provider } = setup();
    // Never started: no socket is opened; the instruments read the same state a running one updates.
    const listener = new VaultMultiListener({
      group: '239.18.0.9',
      port: 5555,
      interfaces: ['127.0.0.1'],
      meter,
    });
    const publisher = new VaultMultiPublisher({
      group: '239.18.0.9',
      port: 5555,
      interfaces: ['127.0.0.1'],
      meter,
    });
    const decoded = decodeAnnouncement(encodeAnnouncement({ type: 'T', name: 'a', addr: '10.0.0.1:1' }), {
      maxBytes: 1400,
    });
    if (!decoded.ok) throw new Error(decoded.detail);
    listener.registry.observe(decoded.announcement, '10.0.0.1');
    listener.stats.packetsReceived = 3;
    listener.stats.dropped.not_json = 2;
    publisher.stats.packetsSent = 4;
    publisher.stats.sendErrors.ENETUNREACH = 1;

    const rows = await collect(reader);
    const one = (name: string, attrs: Record<string, unknown> = {}) =>
      rows.filter((r) => r.name === name && Object.entries(attrs).every(([k, v]) => r.attributes[k] === v));
    expect(one('vault_multicast_received_packets')).toMatchObject([
      { type: DataPointType.SUM, value: 3, attributes: { group: '239.18.0.9', port: '5555' } },
    ]);
    expect(one('vault_multicast_dropped_packets', { reason: 'not_json' })[0]?.value).toBe(2);
    expect(one('vault_multicast_dropped_packets')).toHaveLength(DROP_REASONS.length);
    expect(one('vault_multicast_active_services')[0]).toMatchObject({ type: DataPointType.GAUGE, value: 1 });
    expect(one('vault_multicast_services_discovered')[0]?.value).toBe(1);
    expect(one('vault_multicast_sent_packets')[0]?.value).toBe(4);
    expect(one('vault_multicast_send_errors', { reason: 'ENETUNREACH' })[0]?.value).toBe(1);
    // No per-service instruments: they would outlive their services (opentelemetry-js#4096).
    expect(rows.filter((r) => r.name.includes('service_up'))).toEqual([]);

    listener.stats.packetsReceived = 10;
    const again = await collect(reader);
    expect(again.find((r) => r.name === 'vault_multicast_received_packets')?.value).toBe(10);
    await provider.shutdown();
  });

  it('stops reading the listener once uninstrumented', async () => {
    const { meter, reader, provider } = setup();
    const listener = new VaultMultiListener({ group: '239.18.0.9', port: 5556, interfaces: ['127.0.0.1'] });
    const stop = instrumentListener(meter, listener);
    await collect(reader);
    let reads = 0;
    const stats = listener.stats;
    Object.defineProperty(listener, 'stats', {
      get: () => {
        reads++;
        return stats;
      },
    });
    stop();
    await collect(reader);
    expect(reads).toBe(0);
    await provider.shutdown();
  });
});
