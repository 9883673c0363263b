import type { Meter } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import type { VaultMultiListener } from '../../src/listener.js';
import { instrumentListener, instrumentPublisher } from '../../src/otel.js';
import type { VaultMultiPublisher } from '../../src/publisher.js';
import { FakeListener, FakePublisher } from './fakes.js';

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
    const listener = new FakeListener();
    listener.stats.packetsReceived = 3;
    listener.stats.dropped.not_json = 2;
    listener.registry.add({ type: 'T', addr: '10.0.0.1:1' });
    const publisher = new FakePublisher();
    publisher.stats.packetsSent = 4;
    publisher.stats.sendErrors = { ENETUNREACH: 1 };
    instrumentListener(meter, listener as unknown as VaultMultiListener);
    instrumentPublisher(meter, publisher as unknown as VaultMultiPublisher);

    const rows = await collect(reader);
    const one = (name: string, attrs: Record<string, unknown> = {}) =>
      rows.filter((r) => r.name === name && Object.entries(attrs).every(([k, v]) => r.attributes[k] === v));
    expect(one('vault_multicast_received_packets')).toMatchObject([
      { type: DataPointType.SUM, value: 3, attributes: { group: '224.1.1.1', port: '5004' } },
    ]);
    expect(one('vault_multicast_dropped_packets', { reason: 'not_json' })[0]?.value).toBe(2);
    expect(one('vault_multicast_dropped_packets')).toHaveLength(19);
    expect(one('vault_multicast_active_services')[0]).toMatchObject({ type: DataPointType.GAUGE, value: 1 });
    expect(one('vault_multicast_group_membership', { interface: '127.0.0.1' })[0]?.value).toBe(1);
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
    const listener = new FakeListener();
    const stop = instrumentListener(meter, listener as unknown as VaultMultiListener);
    await collect(reader);
    let reads = 0;
    Object.defineProperty(listener, 'stats', {
      get: () => {
        reads++;
        return new FakeListener().stats;
      },
    });
    stop();
    await collect(reader);
    expect(reads).toBe(0);
    await provider.shutdown();
  });
});
