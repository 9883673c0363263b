/**
 * Accessibility of the page, checked by axe-core (WCAG 2.1 A and AA, colour contrast included) in light and
 * dark, on a real agent with up, stale and departed services and the details panel open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { axeViolations } from './axe.js';
import { CHROMIUM_AVAILABLE, type OpenedPage, openPage } from './browser.js';
import { type PublisherProcess, startPublisher } from './publisher-process.js';

const GROUP = '224.1.1.1';

describe.skipIf(!IN_TEST_NETNS || !CHROMIUM_AVAILABLE)('accessibility (axe-core)', () => {
  let agent: SpawnedAgent;
  const publishers: PublisherProcess[] = [];
  const pages: OpenedPage[] = [];

  beforeAll(async () => {
    const port = await freeUdpPort();
    agent = await spawnAgent({
      http: { enableAdmin: true },
      metrics: { processMetrics: false },
      listeners: [
        { name: 'lan', group: GROUP, port, interfaces: ['127.0.0.1'], serviceTimeout: '2s', retention: '5m' },
      ],
    });
    const start = (message: Record<string, unknown>) =>
      startPublisher({ group: GROUP, port, message, interval: 0.5 });
    publishers.push(await start({ type: 'http-api', name: 'api', addr: '127.0.0.1:8080', version: '1.0' }));
    const stale = await start({ type: 'db', name: 'pg', addr: '127.0.0.1:5432' });
    const departed = await start({ type: 'cache', name: 'redis', addr: '127.0.0.1:6379' });
    await new Promise((r) => setTimeout(r, 500));
    await stale.kill();
    await departed.stop();
  });

  afterAll(async () => {
    for (const p of pages) await p.close();
    for (const p of publishers) await p.kill();
    await agent?.stop();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no WCAG 2.1 AA violations in ${colorScheme} mode`, async () => {
      const opened = await openPage(agent.url, { colorScheme });
      pages.push(opened);
      const { page } = opened;
      await page.getByLabel('Show departed').check();
      const pgRow = page.locator('#services-table tbody tr[data-state="stale"]');
      await pgRow.waitFor({ timeout: 10_000 });
      await page.locator('#services-table tbody tr[data-state="gone"]').waitFor({ timeout: 5000 });
      await page.getByRole('button', { name: 'api', exact: true }).click();
      await page.locator('#details').waitFor({ state: 'visible' });
      await page.locator('#services-table tbody tr.selected').waitFor();
      expect(await axeViolations(page)).toEqual([]);
    });
  }
});
