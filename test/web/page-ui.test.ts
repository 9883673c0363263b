/**
 * The page's navigation and presentation in headless Chromium against a real agent with two listeners and
 * its own publishers: listener tabs, keyboard use, Connect, light/dark, phone width.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { axeViolations } from './axe.js';
import { CHROMIUM_AVAILABLE, type OpenedPage, openPage } from './browser.js';

const GROUP = '224.1.1.1';

function publisher(name: string, port: number, message: Record<string, unknown>) {
  return { name, group: GROUP, port, interface: '127.0.0.1', ttl: 0, interval: '1s', message };
}

describe.skipIf(!IN_TEST_NETNS || !CHROMIUM_AVAILABLE)('discovery page navigation and presentation', () => {
  let agent: SpawnedAgent;
  let config: { listeners: unknown[]; publishers: unknown[] } & Record<string, unknown>;
  const pages: OpenedPage[] = [];
  const open = async (opts?: Parameters<typeof openPage>[1]) => {
    const opened = await openPage(agent.url, opts);
    pages.push(opened);
    await opened.page.locator('#connection[data-state="open"]').waitFor({ timeout: 20_000 });
    return opened;
  };

  beforeAll(async () => {
    const portA = await freeUdpPort();
    const portB = await freeUdpPort();
    config = {
      http: { enableAdmin: true },
      metrics: { processMetrics: false },
      listeners: [
        { name: 'alpha', group: GROUP, port: portA, interfaces: ['127.0.0.1'] },
        { name: 'beta', group: GROUP, port: portB, interfaces: ['127.0.0.1'] },
      ],
      publishers: [
        publisher('pub-a', portA, {
          type: 'http-api',
          name: 'svc-a',
          addr: '127.0.0.1:8081',
          version: '2.0',
        }),
        publisher('pub-b', portB, { type: 'postgres', name: 'svc-b', addr: '127.0.0.1:5432' }),
      ],
    };
    agent = await spawnAgent(config);
  });

  afterAll(async () => {
    for (const p of pages) await p.close();
    await agent?.stop();
  });

  it('gives each listener a tab, switchable by click and arrow keys', async () => {
    const { page } = await open();
    const tabs = page.getByRole('tab');
    await expect.poll(() => tabs.allTextContents()).toEqual(['All listeners', 'alpha', 'beta']);
    await page.getByRole('button', { name: 'svc-a', exact: true }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'svc-b', exact: true }).waitFor({ timeout: 5000 });
    expect(await page.locator('#services-table thead th.col-listener').isVisible()).toBe(true);

    await page.getByRole('tab', { name: 'beta' }).click();
    expect(await page.getByRole('tab', { name: 'beta' }).getAttribute('aria-selected')).toBe('true');
    await page
      .getByRole('button', { name: 'svc-a', exact: true })
      .waitFor({ state: 'detached', timeout: 1000 });
    expect(await page.getByRole('button', { name: 'svc-b', exact: true }).isVisible()).toBe(true);
    expect(
      await page
        .locator('section.tile-group[data-kind="listener"]')
        .evaluateAll((s) => s.map((e) => e.getAttribute('data-name'))),
    ).toEqual(['beta']);
    expect(await page.locator('section.tile-group[data-kind="publisher"]').count()).toBe(2);

    await page.keyboard.press('ArrowLeft');
    expect(await page.getByRole('tab', { name: 'alpha' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('alpha');
    await page.getByRole('button', { name: 'svc-a', exact: true }).waitFor({ timeout: 1000 });
    expect(await page.getByRole('button', { name: 'svc-b', exact: true }).count()).toBe(0);
    await page.keyboard.press('Home');
    expect(await page.getByRole('tab', { name: 'All listeners' }).getAttribute('aria-selected')).toBe('true');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('is usable from the keyboard: skip link, row selection by arrows, Escape back to the row', async () => {
    const { page } = await open();
    await page.getByRole('button', { name: 'svc-b', exact: true }).waitFor({ timeout: 5000 });
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.className')).toBe('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('services');

    await page.getByRole('button', { name: 'svc-b', exact: true }).focus();
    // Sorted by type: http-api (svc-a) above postgres (svc-b).
    await page.keyboard.press('ArrowUp');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('svc-a');
    await page.keyboard.press('Enter');
    await page.locator('#details').waitFor({ state: 'visible' });
    expect(await page.evaluate('document.activeElement?.id')).toBe('details-title');
    expect(await page.locator('#details-title').textContent()).toBe('svc-a');
    await page.keyboard.press('Escape');
    await page.locator('#details').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('svc-a');

    // Sorted by last seen, the rows swap places as announcements arrive; focus stays on its row.
    await page.locator('#services-table thead th.col-lastSeen button').click();
    await page.getByRole('button', { name: 'svc-a', exact: true }).focus();
    const order = () => page.locator('#services-table tbody button.select').allTextContents();
    const first = (await order()).join();
    await expect.poll(async () => (await order()).join(), { timeout: 10_000 }).not.toBe(first);
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('svc-a');
  });

  it('Connect hands the announcement to embedders, opens web services and copies other addresses', async () => {
    const { page, context } = await open();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    // Records what an embedder of the page would receive.
    await page.evaluate(`
      window.connects = [];
      window.addEventListener('vault-multicast:connect', (ev) => window.connects.push(ev.detail));
    `);
    await page.getByRole('button', { name: 'svc-a', exact: true }).click();
    // A new tab goes to the service (nothing listens there; the request is what counts).
    const request = context.waitForEvent('request', {
      timeout: 5000,
      predicate: (r) => r.url().includes(':8081'),
    });
    await page.locator('#details-connect').click();
    expect((await request).url()).toBe('http://127.0.0.1:8081/');

    await page.getByRole('button', { name: 'svc-b', exact: true }).click();
    await page.locator('#details-connect').click();
    await expect.poll(() => page.locator('#message').textContent()).toBe('Address 127.0.0.1:5432 copied.');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('127.0.0.1:5432');

    const connects = (await page.evaluate('window.connects')) as {
      data: { name: string };
      url: string | undefined;
    }[];
    expect(connects.map((c) => [c.data.name, c.url])).toEqual([
      ['svc-a', 'http://127.0.0.1:8081/'],
      ['svc-b', undefined],
    ]);

    await page.locator('#details-copy').click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toContain('"name": "svc-b"');
  });

  it('follows the system colour scheme and the toggle, and remembers the choice', async () => {
    const bg = (page: Page) => page.evaluate('getComputedStyle(document.body).backgroundColor');
    const light = await open({ colorScheme: 'light' });
    const dark = await open({ colorScheme: 'dark' });
    const lightBg = await bg(light.page);
    expect(await bg(dark.page)).not.toBe(lightBg);

    const toggle = light.page.locator('#theme-toggle');
    await toggle.click();
    expect(await toggle.textContent()).toBe('Theme: light');
    await toggle.click();
    expect(await toggle.textContent()).toBe('Theme: dark');
    expect(await bg(light.page)).toBe(await bg(dark.page));
    await light.page.reload();
    expect(await light.page.locator('#theme-toggle').textContent()).toBe('Theme: dark');
    expect(await bg(light.page)).toBe(await bg(dark.page));
  });

  it('fits a phone screen: no sideways scrolling of the page at 390 px', async () => {
    const { page } = await open({ viewport: { width: 390, height: 844 } });
    await page.getByRole('button', { name: 'svc-a', exact: true }).click();
    await page.locator('#details').waitFor({ state: 'visible' });
    expect(await axeViolations(page)).toEqual([]);
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    expect(width).toBeLessThanOrEqual(390);
  });

  it('takes a reload of the agent’s configuration as a new snapshot, without reloading the page', async () => {
    const { page } = await open();
    await expect.poll(() => page.getByRole('tab').count()).toBe(3);
    await page.getByRole('button', { name: 'svc-b', exact: true }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'svc-b', exact: true }).focus();
    await agent.reload({
      ...config,
      listeners: config.listeners.slice(0, 1),
      publishers: config.publishers.slice(0, 1),
    });
    // One listener left: no tabs, and the other listener's services are gone with it.
    await page.locator('#listener-tabs').waitFor({ state: 'hidden', timeout: 10_000 });
    await page
      .getByRole('button', { name: 'svc-b', exact: true })
      .waitFor({ state: 'detached', timeout: 2000 });
    expect(await page.getByRole('button', { name: 'svc-a', exact: true }).isVisible()).toBe(true);
    expect(await page.locator('#listener-panel').getAttribute('role')).toBeNull();
    // The focused row went away; focus moved to the row in its place rather than to nowhere.
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('svc-a');
  });
});
