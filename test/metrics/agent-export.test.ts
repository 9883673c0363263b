/**
 * The exporters as the agent wires them: a running Agent with a listener and OTLP export to a receiver in this
 * test, a service announcing from outside the agent's config, then silent. Its series must go to 0 and then
 * leave both /metrics (over HTTP) and the OTLP exports the agent pushes on its own timer. The agent encodes a
 * service's labels and attributes when it comes up: a service that renames in place afterwards must be
 * exported under its new name, in both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { METRICS } from '../../src/metrics/names.js';
import { otelName } from '../../src/metrics/otel-names.js';
import { startTestAgent, type TestAgent } from '../agent/in-process.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { find, parseExposition, promtoolCheck } from './exposition.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * An agent with one listener on `group` (and `listenerExtra` YAML lines) exporting OTLP every second to a
 * receiver of this test, and a publisher announcing `message` to it every 100 ms.
 */
async function agentWithOtlp(
  group: string,
  message: Record<string, string>,
  listenerExtra = '',
): Promise<{ agent: TestAgent; receiver: OtlpReceiver; publisher: VaultMultiPublisher }> {
  const receiver = await startOtlpReceiver();
  cleanups.push(() => receiver.close());
  const port = await freeUdpPort();
  const agent = await startTestAgent(`
http:
  listen: "@HTTP@"
metrics:
  otlp:
    endpoint: ${receiver.url}
    interval: 1s
listeners:
  - name: lan
    group: ${group}
    port: ${port}
    interfaces: [127.0.0.1]
${listenerExtra}`);
  cleanups.push(() => agent.close());
  const publisher = new VaultMultiPublisher({
    group,
    port,
    interfaces: ['127.0.0.1'],
    interval: 0.1,
    goodbye: false,
    message,
  });
  await publisher.start();
  cleanups.push(() => publisher.stop());
  return { agent, receiver, publisher };
}

describe.skipIf(!IN_TEST_NETNS)('agent exports', () => {
  it('a silent service goes to 0, then leaves /metrics and the pushed OTLP exports', async () => {
    const { agent, receiver, publisher } = await agentWithOtlp(
      '239.18.0.21',
      { type: 'VaultLibrary', name: 'silent', addr: '127.0.0.1:8200', version: '2.1.0' },
      '    serviceTimeout: 2500ms\n    retention: 1500ms\n',
    );

    const scrape = async () => {
      const res = await fetch(`${agent.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const up = async () =>
      find(parseExposition(await scrape()), METRICS.serviceUp.name, { service_name: 'silent' });
    /**
     * service_up values of the service in an OTLP export collected after this call: the second to arrive (the
     * first may have been collected just before).
     */
    const nextOtlp = async () => {
      const seen = receiver.requests.length;
      await waitFor(() => receiver.requests.length > seen + 1, 'two OTLP exports', 15_000);
      return (receiver.requests.at(-1)?.points ?? [])
        .filter((p) => p.metric === otelName(METRICS.serviceUp) && p.attributes.service_name === 'silent')
        .map((p) => p.value);
    };

    await waitFor(async () => (await up())[0]?.value === 1, 'service up on /metrics', 15_000);
    expect(await nextOtlp()).toEqual([1]);
    const body = await scrape();
    expect(promtoolCheck(body).output).not.toMatch(/error|vault_multicast/);

    await publisher.stop();
    await waitFor(async () => (await up())[0]?.value === 0, 'service stale on /metrics', 15_000);
    await waitFor(async () => (await up()).length === 0, 'service forgotten on /metrics', 15_000);
    expect(await nextOtlp()).toEqual([]);
    const last = parseExposition(await scrape());
    expect(find(last, METRICS.servicesExpired.name, { listener: 'lan', reason: 'expired' })[0]?.value).toBe(
      1,
    );
  });

  it('exports a service renamed in place under its new name, not the bytes encoded when it came up', async () => {
    const message = { type: 'VaultLibrary', name: 'before', addr: '127.0.0.1:8201', version: '1.0.0' };
    const { agent, receiver, publisher } = await agentWithOtlp('239.18.0.22', message);
    /** service_name and version of the service's service_info on /metrics and in the latest OTLP export. */
    const exported = async () => {
      const res = await fetch(`${agent.url}/metrics`);
      const info = find(parseExposition(await res.text()), METRICS.serviceInfo.name, {
        address: message.addr,
      });
      const otlp = (receiver.requests.at(-1)?.points ?? []).filter(
        (p) => p.metric === otelName(METRICS.serviceInfo) && p.attributes.address === message.addr,
      );
      return {
        prometheus: info.map((s) => `${s.labels.service_name} ${s.labels.version}`),
        otlp: otlp.map((p) => `${p.attributes.service_name} ${p.attributes.version}`),
      };
    };

    const before = { prometheus: ['before 1.0.0'], otlp: ['before 1.0.0'] };
    await waitFor(async () => equal(await exported(), before), 'the service exported', 15_000);
    publisher.updateMessage({ ...message, name: 'after', version: '1.1.0' });
    const after = { prometheus: ['after 1.1.0'], otlp: ['after 1.1.0'] };
    await waitFor(async () => equal(await exported(), after), 'the new name exported', 15_000);
  });
});

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
