/**
 * config/prometheus/prometheus.localhost.yaml against the shipped default agent configuration, as a new user
 * runs them on one machine: a real Prometheus scrapes the agent once (the agent's own announcement is not
 * offered by /api/v1/sd), finds a service announced on loopback through HTTP SD, and loads the alert rules.
 * Both files are used as shipped, plus the one line prometheus.localhost.yaml asks for in agent.yaml
 * (`sd: {allowedTargets: [127.0.0.0/8]}`: loopback targets are offered only when allowed); only addresses are
 * moved (the HTTP port off 9477, the multicast group and
 * port off the default 224.1.1.1:5004), so that the test cannot collide with another using the defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { REPO_ROOT, type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeTcpPort, freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { PROMETHEUS, type PrometheusServer, startPrometheus } from './prometheus-server.js';

const RULES_DIR = join(REPO_ROOT, 'config/prometheus');
const GROUP = '224.1.1.51';
const missing = !IN_TEST_NETNS
  ? 'the default agent joins 224.1.1.1 on loopback: run inside the test namespace (npm test)'
  : !existsSync(PROMETHEUS)
    ? `${PROMETHEUS} is missing (bash scripts/setup-dev.sh installs Debian's prometheus)`
    : '';
if (missing) console.warn(`skipping the localhost Prometheus example: ${missing}`);

describe.skipIf(Boolean(missing))('the localhost Prometheus example with the default agent', () => {
  let agent: SpawnedAgent;
  let prometheus: PrometheusServer;
  let service: VaultMultiPublisher;
  let target = '';

  beforeAll(async () => {
    const port = String(await freeTcpPort());
    const udpPort = String(await freeUdpPort());
    target = `127.0.0.1:${port}`;
    const moved = (text: string) =>
      text
        .replace(/\b9477\b/g, port)
        .replaceAll('224.1.1.1', GROUP)
        .replace(/\b5004\b/g, udpPort);
    // Loopback targets are offered only when allowed, which prometheus.localhost.yaml tells the user to do.
    const config = parse(moved(readFileSync(join(REPO_ROOT, 'config/agent.yaml'), 'utf8'))) as Record<
      string,
      unknown
    >;
    config.sd = { allowedTargets: ['127.0.0.0/8'] };
    agent = await spawnAgent(config);
    const promConfig = parse(moved(readFileSync(join(RULES_DIR, 'prometheus.localhost.yaml'), 'utf8'))) as {
      global: Record<string, string>;
      scrape_configs: { http_sd_configs?: { refresh_interval: string }[] }[];
    };
    promConfig.global.scrape_interval = '1s';
    for (const job of promConfig.scrape_configs)
      for (const sd of job.http_sd_configs ?? []) sd.refresh_interval = '1s';
    prometheus = await startPrometheus({
      config: promConfig as unknown as Record<string, unknown>,
      files: { 'alerts.yaml': readFileSync(join(RULES_DIR, 'alerts.yaml'), 'utf8') },
    });
    // A service of the README's CLI example kind, with a metrics port, announced on the default group.
    service = new VaultMultiPublisher({
      group: GROUP,
      port: Number(udpPort),
      interfaces: '127.0.0.1',
      interval: 0.5,
      message: { type: 'Web', name: 'web', addr: '127.0.0.1:8080', metrics_port: 8080 },
    });
    await service.start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop(0);
    await prometheus?.stop();
    await agent?.stop();
  });

  it('scrapes the agent once, in the job the alerts select, and the discovered service in the other', async () => {
    await waitFor(
      async () => (await prometheus.query('up{job="multicast-discovered"}')).length === 1,
      'the discovered service as a target',
      60_000,
    );
    await waitFor(
      async () => (await prometheus.query('up{job="vault-multicast"} == 1')).length === 1,
      'agent up',
      60_000,
    );
    const byInstance = await prometheus.query('count by (instance) (up)');
    expect(Object.fromEntries(byInstance.map((s) => [s.metric.instance, s.value?.[1]]))).toEqual({
      [target]: '1',
      '127.0.0.1:8080': '1',
    });
    const discovered = await prometheus.query('up{job="multicast-discovered"}');
    expect(discovered[0]?.metric).toMatchObject({ service_type: 'Web', service_name: 'web' });
    expect((await prometheus.rules()).length).toBeGreaterThan(0);
  }, 120_000);
});
