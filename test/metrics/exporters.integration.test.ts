/**
 * The exporters on the real listener and publisher, on loopback inside the test namespace: counts on /metrics
 * match what crossed the socket, counters survive resetMetrics(), and a service that stops announcing goes to
 * service_up 0 and then leaves both /metrics and the OTLP export when the registry forgets it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerConfig, PublisherConfig } from '../../src/agent/config/types.js';
import type { AgentState, ListenerEntry, PublisherEntry } from '../../src/agent/state.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { METRICS } from '../../src/metrics/names.js';
import { otelName } from '../../src/metrics/otel-names.js';
import { type OtlpExport, startOtlpExport } from '../../src/metrics/otlp.js';
import { createMetricsHandler } from '../../src/metrics/prometheus.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { duplicateSeries, find, parseExposition, promtoolCheck } from './exposition.js';
import { listenerConfig, publisherConfig } from './fakes.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function agentState(listeners: ListenerEntry[], publishers: PublisherEntry[]): AgentState {
  return {
    version: '0.1.0-it',
    startedWallMs: Date.now(),
    listeners: () => listeners,
    publishers: () => publishers,
    reload: { lastSuccess: true, lastSuccessWallMs: Date.now(), successes: 1, failures: 0 },
    maxServiceSeries: 100,
  };
}

describe.skipIf(!IN_TEST_NETNS)('exporters on a real listener and publisher', () => {
  it('exports what crossed the socket, then loses an expired service from /metrics and OTLP', async () => {
    const port = await freeUdpPort();
    const group = '239.18.0.7';
    const listener = new VaultMultiListener({
      group,
      port,
      interfaces: ['127.0.0.1'],
      // Long enough that a loaded CI machine's stalls never expire a live service by accident.
      serviceTimeout: 2.5,
      retention: 1.5,
    });
    await listener.start();
    cleanups.push(() => listener.stop());
    const make = (name: string, goodbye: boolean) =>
      new VaultMultiPublisher({
        group,
        port,
        interfaces: ['127.0.0.1'],
        interval: 0.05,
        jitter: 0,
        goodbye,
        message: {
          type: 'VaultLibrary',
          name,
          addr: `127.0.0.1:${name === 'fades' ? 8200 : 8201}`,
          version: '1.4.2',
        },
      });
    const fades = make('fades', false);
    const leaves = make('leaves', true);
    for (const p of [fades, leaves]) {
      await p.start();
      cleanups.push(() => p.stop());
    }
    const lc: ListenerConfig = { ...listenerConfig('it', group, port) };
    const pc: PublisherConfig = { ...publisherConfig('fades', group, port) };
    const state = agentState(
      [{ name: 'it', config: lc, listener }],
      [{ name: 'fades', config: pc, publisher: fades }],
    );
    const handler = createMetricsHandler(state, { processMetrics: true });
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const otlp: OtlpExport = startOtlpExport(state, {
      endpoint: receiver.url,
      intervalMs: 600_000,
      headers: {},
    });
    cleanups.push(() => otlp.shutdown());
    const scrape = async () => parseExposition(await handler.render());
    const otlpUp = async () => {
      await otlp.forceFlush();
      return (receiver.requests.at(-1)?.points ?? [])
        .filter((p) => p.metric === otelName(METRICS.serviceUp))
        .map((p) => `${p.attributes.service_name}=${p.value}`)
        .sort();
    };
    const L = { listener: 'it', group, port: String(port) };

    await waitFor(
      async () => find(await scrape(), METRICS.serviceUp.name, L).length === 2,
      'both services up',
      15_000,
    );
    expect(await otlpUp()).toEqual(['fades=1', 'leaves=1']);

    // Counts match the library's lifetime totals, and a reset of the view leaves the counters alone.
    await fades.stop();
    const body = await handler.render();
    const exp = parseExposition(body);
    const received = find(exp, METRICS.receivedPackets.name, L)[0]?.value ?? 0;
    expect(received).toBeGreaterThan(0);
    expect(find(exp, METRICS.sentPackets.name, { publisher: 'fades' })[0]?.value).toBe(
      fades.stats.packetsSent,
    );
    expect(find(exp, METRICS.serviceInfo.name, { service_name: 'fades' })[0]?.labels.version).toBe('1.4.2');
    expect(find(exp, METRICS.groupMembership.name, { ...L, interface: '127.0.0.1' })[0]?.value).toBe(1);
    // Read from /proc/net/udp for the listener's own socket: present, and nothing lost at this rate.
    expect(find(exp, METRICS.kernelDrops.name, L).map((s) => s.value)).toEqual([0]);
    expect(find(exp, METRICS.receiveQueued.name, L).map((s) => s.value)).toEqual([
      listener.receiveQueue.total,
    ]);
    expect(duplicateSeries(exp)).toEqual([]);
    expect(promtoolCheck(body).output).not.toMatch(/error|vault_multicast/);
    listener.resetMetrics();
    const afterReset = find(await scrape(), METRICS.receivedPackets.name, L)[0]?.value ?? 0;
    expect(afterReset).toBeGreaterThanOrEqual(received);

    // A goodbye is not an outage: the service leaves the per-service series at once.
    await leaves.stop();
    await waitFor(
      async () => find(await scrape(), METRICS.serviceUp.name, { service_name: 'leaves' }).length === 0,
      'goodbye service gone from /metrics',
      15_000,
    );
    expect(find(await scrape(), METRICS.servicesExpired.name, { ...L, reason: 'goodbye' })[0]?.value).toBe(1);

    // Silent stop: stale (0) first, then forgotten, from both exports.
    await waitFor(
      async () => find(await scrape(), METRICS.serviceUp.name, { service_name: 'fades' })[0]?.value === 0,
      'silent service stale',
      15_000,
    );
    expect(await otlpUp()).toEqual(['fades=0']);
    await waitFor(
      async () => find(await scrape(), METRICS.serviceUp.name, { service_name: 'fades' }).length === 0,
      'stale service forgotten',
      15_000,
    );
    expect(await otlpUp()).toEqual([]);
    const last = await scrape();
    expect(find(last, METRICS.servicesExpired.name, { ...L, reason: 'expired' })[0]?.value).toBe(1);
    expect(find(last, METRICS.activeServices.name, L)[0]?.value).toBe(0);
  });
});
