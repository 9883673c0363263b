/**
 * Writes docs/screenshots/{light,dark,phone}.png from a real agent with real publishers. Not part of the
 * normal run (the images would change on every run): `npm run screenshots` sets VM_SCREENSHOTS=1.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { CHROMIUM_AVAILABLE, type OpenedPage, openPage } from './browser.js';
import { type PublisherProcess, startPublisher } from './publisher-process.js';

const OUT = join(REPO_ROOT, 'docs', 'screenshots');
const GROUP = '224.1.1.1';

const SERVICES: Record<string, unknown>[] = [
  {
    type: 'VaultServer',
    name: 'vault-eu-1',
    addr: '10.20.0.11:8200',
    version: '1.17.2',
    region: 'eu-west-1',
  },
  {
    type: 'VaultServer',
    name: 'vault-eu-2',
    addr: '10.20.0.12:8200',
    version: '1.17.2',
    region: 'eu-west-1',
  },
  {
    type: 'VaultServer',
    name: 'vault-us-1',
    addr: '10.40.0.11:8200',
    version: '1.16.9',
    region: 'us-east-2',
  },
  { type: 'http-grafana', name: 'grafana', addr: '10.20.1.5:3000', version: '11.6.0', metrics_port: 3000 },
  { type: 'prometheus', name: 'prometheus-0', addr: '10.20.1.9:9090', version: '3.1.0', metrics_port: 9090 },
  { type: 'postgres', name: 'orders-db', addr: '10.20.2.3:5432', version: '16.4', role: 'primary' },
  { type: 'kafka', name: 'broker-2', addr: '[2001:db8:20::2]:9092', version: '3.8.0' },
];

describe.skipIf(!process.env.VM_SCREENSHOTS || !IN_TEST_NETNS || !CHROMIUM_AVAILABLE)('screenshots', () => {
  let agent: SpawnedAgent;
  const publishers: PublisherProcess[] = [];
  const pages: OpenedPage[] = [];

  afterAll(async () => {
    for (const p of pages) await p.close();
    for (const p of publishers) await p.kill();
    await agent?.stop();
  });

  it('captures the page in light, dark and phone layouts', { timeout: 120_000 }, async () => {
    await mkdir(OUT, { recursive: true });
    const port = await freeUdpPort();
    agent = await spawnAgent({
      http: { enableAdmin: true },
      metrics: { processMetrics: false },
      listeners: [{ name: 'lan', group: GROUP, port, interfaces: ['127.0.0.1'], serviceTimeout: '6s' }],
      publishers: [
        {
          name: 'self',
          group: GROUP,
          port,
          interface: '127.0.0.1',
          ttl: 0,
          interval: '2s',
          message: { type: 'VaultAgent', name: 'agent-node-7', addr: '10.20.0.7:9477', metrics_port: 9477 },
        },
      ],
    });
    const shots = [
      ['light', 'light', { width: 1280, height: 1000 }],
      ['dark', 'dark', { width: 1280, height: 1000 }],
      ['phone', 'light', { width: 390, height: 844 }],
    ] as const;
    // The pages open first so that their sparklines see the rate climb as publishers join one by one.
    for (const [, colorScheme, viewport] of shots)
      pages.push(await openPage(agent.url, { colorScheme, viewport }));
    for (const [i, message] of SERVICES.entries()) {
      publishers.push(await startPublisher({ group: GROUP, port, message, interval: i % 2 === 0 ? 0.5 : 1 }));
      await new Promise((r) => setTimeout(r, 2500));
    }
    const silent = await startPublisher({
      group: GROUP,
      port,
      message: { type: 'redis', name: 'session-cache', addr: '10.20.2.8:6379', version: '7.4.1' },
    });
    await new Promise((r) => setTimeout(r, 1500));
    await silent.kill();
    await new Promise((r) => setTimeout(r, 9000));

    for (const [i, [name]] of shots.entries()) {
      const opened = pages[i]!;
      const { page } = opened;
      await page.getByRole('button', { name: 'session-cache', exact: true }).waitFor({ timeout: 5000 });
      if (name !== 'phone') await page.getByRole('button', { name: 'vault-eu-1', exact: true }).click();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: name !== 'phone' });
      expect(opened.dialogs).toEqual([]);
      expect(opened.errors).toEqual([]);
    }
  });
});
