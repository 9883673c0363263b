/**
 * /api/v1/sd leaves out the agent's own announcement: with the default config (an agent that announces itself
 * with metrics_port), a Prometheus that scrapes the agent in its own job and also uses HTTP SD would scrape it
 * twice. Other agents' announcements are still offered (docs/monitoring.md: the relabel rule that drops them).
 * Loopback targets are allowed here (sd.allowedTargets), so only the own-announcement rule can leave it out.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent } from './in-process.js';

describe.skipIf(!IN_TEST_NETNS)('HTTP service discovery and the agent itself', () => {
  let t: TestAgent;
  let other: VaultMultiPublisher;

  beforeAll(async () => {
    const port = await freeUdpPort();
    t = await startTestAgent(`
http: {listen: @HTTP@}
sd: {allowedTargets: [127.0.0.0/8]}
listeners:
  - {name: local, group: 224.1.1.31, port: ${port}, interfaces: [127.0.0.1]}
publishers:
  - name: self
    group: 224.1.1.31
    port: ${port}
    interface: 127.0.0.1
    interval: 200ms
    message: {type: VaultAgent, name: self, addr: "@HTTP@", metrics_port: 9477}
`);
    other = new VaultMultiPublisher({
      group: '224.1.1.31',
      port,
      interfaces: '127.0.0.1',
      interval: 0.2,
      message: { type: 'VaultAgent', name: 'other', addr: '127.0.0.2:9477', metrics_port: 9477 },
    });
    await other.start();
  });

  afterAll(async () => {
    await other?.stop(0);
    await t?.close();
  });

  test('offers the other agent, not itself, though it lists both as services', async () => {
    await waitFor(async () => {
      const r = (await (await fetch(`${t.url}/api/v1/services`)).json()) as { services: unknown[] };
      return r.services.length === 2;
    }, 'both agents heard');
    const sd = (await (await fetch(`${t.url}/api/v1/sd`)).json()) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    expect(sd.map((g) => [g.targets, g.labels.__meta_vault_multicast_service_name])).toEqual([
      [['127.0.0.2:9477'], 'other'],
    ]);
  });
});
