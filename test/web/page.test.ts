/**
 * The discovery page in headless Chromium against the real, built agent and real publishers (separate
 * processes), everything on 127.0.0.1 inside the test namespace.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeTcpPort, freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { axeViolations } from './axe.js';
import { CHROMIUM_AVAILABLE, type OpenedPage, openPage } from './browser.js';
import { type PublisherProcess, type PublisherProcessOptions, startPublisher } from './publisher-process.js';

const GROUP = '224.1.1.1';
const LISTENER = 'lab';

function rowOf(page: Page, name: string) {
  return page
    .locator('#services-table tbody tr')
    .filter({ has: page.getByRole('button', { name, exact: true }) });
}

function tile(page: Page, metric: string) {
  return page.locator(
    `section.tile-group[data-kind="listener"][data-name="${LISTENER}"] dd[data-metric="${metric}"]`,
  );
}

function agentConfig(listen: string, port: number, http: Record<string, unknown> = {}) {
  return {
    http: { listen, enableAdmin: true, ...http },
    metrics: { processMetrics: false },
    listeners: [
      {
        name: LISTENER,
        group: GROUP,
        port,
        interfaces: ['127.0.0.1'],
        serviceTimeout: '3s',
        retention: '4s',
      },
    ],
  };
}

describe.skipIf(!IN_TEST_NETNS || !CHROMIUM_AVAILABLE)('discovery page against a real agent', () => {
  let port: number;
  let listen: string;
  let agent: SpawnedAgent;
  let opened: OpenedPage;
  let page: Page;
  const publishers = new Set<PublisherProcess>();

  const publish = async (message: Record<string, unknown>, extra: Partial<PublisherProcessOptions> = {}) => {
    const p = await startPublisher({ group: GROUP, port, message, ...extra });
    publishers.add(p);
    return p;
  };
  const silenceAll = async () => {
    await Promise.all([...publishers].map((p) => p.kill()));
    publishers.clear();
  };

  beforeAll(async () => {
    port = await freeUdpPort();
    listen = `127.0.0.1:${await freeTcpPort()}`;
    agent = await spawnAgent(agentConfig(listen, port));
    opened = await openPage(agent.url);
    page = opened.page;
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 20_000 });
  });

  afterAll(async () => {
    await silenceAll();
    await opened?.close();
    await agent?.stop();
  });

  it('shows a new service within 2 s of its first announcement, then removes it at once on goodbye', async () => {
    const p = await publish({ type: 'web-api', name: 'alpha', addr: '127.0.0.1:8080', version: '1.2.3' });
    const row = rowOf(page, 'alpha');
    await row.waitFor({ timeout: 2000 });
    await expect.poll(() => row.locator('td.col-addr').textContent()).toBe('127.0.0.1:8080');
    expect(await row.locator('.state').textContent()).toBe('up');
    expect(await row.locator('td.col-version').textContent()).toBe('1.2.3');

    await p.stop();
    publishers.delete(p);
    await row.waitFor({ state: 'detached', timeout: 2000 });
    // Departed services are hidden, not lost: the toggle brings them back, marked gone.
    await page.getByLabel('Show departed').check();
    await expect.poll(() => row.locator('.state').textContent(), { timeout: 2000 }).toBe('gone');
    await page.getByLabel('Show departed').uncheck();
    expect(opened.errors).toEqual([]);
  });

  it('marks a silent (SIGKILLed) service stale after the timeout and forgets it after the retention', async () => {
    const p = await publish({ type: 'db', name: 'beta', addr: '127.0.0.1:5432' });
    const row = rowOf(page, 'beta');
    await row.waitFor({ timeout: 2000 });
    await p.kill();
    publishers.delete(p);
    await expect.poll(() => row.locator('.state').textContent(), { timeout: 8000 }).toBe('stale');
    expect(await row.locator('td.col-expires').textContent()).toMatch(/^forgotten in|^forgetting/);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('filters by type substring and by free text, and shows the selected service’s JSON', async () => {
    await publish({ type: 'web-frontend', name: 'shop', addr: '127.0.0.1:8081', region: 'eu-west' });
    await publish({ type: 'cache', name: 'redis-1', addr: '127.0.0.1:6379' });
    const shop = rowOf(page, 'shop');
    const redis = rowOf(page, 'redis-1');
    await shop.waitFor({ timeout: 2000 });
    await redis.waitFor({ timeout: 2000 });

    await page.getByLabel('Type filter').fill('web');
    await redis.waitFor({ state: 'detached', timeout: 1000 });
    expect(await shop.isVisible()).toBe(true);
    // Substring of the type, case as typed (the original's `filter in type`).
    await page.getByLabel('Type filter').fill('frontend');
    expect(await shop.isVisible()).toBe(true);
    await page.getByLabel('Type filter').fill('');
    await redis.waitFor({ timeout: 1000 });

    await page.getByLabel(/^Search/).fill('EU-WEST');
    await redis.waitFor({ state: 'detached', timeout: 1000 });
    expect(await shop.isVisible()).toBe(true);
    await page.getByLabel(/^Search/).fill('');
    await redis.waitFor({ timeout: 1000 });

    await page.getByRole('button', { name: 'shop', exact: true }).click();
    const json = page.locator('#details-json');
    await expect.poll(async () => JSON.parse((await json.textContent()) ?? 'null')?.region).toBe('eu-west');
    expect(await page.locator('#details-title').textContent()).toBe('shop');
    await page.locator('#details-close').click();
    expect(await page.locator('#details').isHidden()).toBe(true);
  });

  it('sorts by a column from the keyboard and reports it with aria-sort', async () => {
    const header = page.locator('#services-table thead th.col-name');
    await header.locator('button').focus();
    await page.keyboard.press('Enter');
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const names = () => page.locator('#services-table tbody button.select').allTextContents();
    const ascending = await names();
    expect(ascending).toEqual([...ascending].sort((a, b) => a.localeCompare(b)));
    await page.keyboard.press('Enter');
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect(await names()).toEqual([...ascending].reverse());
  });

  it('shows a service named like markup as text and runs nothing', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await publish({ type: 'evil', name: evil, addr: '127.0.0.1:6666', note: '<script>alert(2)</script>' });
    const row = rowOf(page, evil);
    await row.waitFor({ timeout: 2000 });
    expect(await row.locator('button.select').textContent()).toBe(evil);
    await row.locator('button.select').click();
    await expect
      .poll(() => page.locator('#details-json').textContent())
      .toContain('<script>alert(2)</script>');
    expect(
      await page
        .locator('#services-table img, #details img, #services-table script, #details script')
        .count(),
    ).toBe(0);
    await page.waitForTimeout(500);
    expect(opened.dialogs).toEqual([]);
    await page.locator('#details-close').click();
  });

  it('Refresh clears the list and Reset Metrics zeroes the tiles', async () => {
    await silenceAll();
    await expect
      .poll(async () => Number((await tile(page, 'packets').textContent())?.replace(/,/g, '')))
      .toBeGreaterThan(0);
    // A slow publisher: after Refresh its service stays away until its next announcement, 30 s later.
    await publish({ type: 'batch', name: 'slow', addr: '127.0.0.1:7000' }, { interval: 30, announceTtl: 60 });
    const slow = rowOf(page, 'slow');
    await slow.waitFor({ timeout: 2000 });
    await page.locator(`section.tile-group[data-name="${LISTENER}"] button[data-action="refresh"]`).click();
    await slow.waitFor({ state: 'detached', timeout: 1000 });
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/Refresh done/);
    expect(await page.locator('#services-table tbody tr.empty-row').count()).toBe(1);

    await silenceAll();
    // Let the agent read what the killed publishers sent last, so nothing is counted after the reset.
    await page.waitForTimeout(500);
    await page
      .locator(`section.tile-group[data-name="${LISTENER}"] button[data-action="reset-metrics"]`)
      .click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/Reset Metrics done/);
    await expect.poll(() => tile(page, 'packets').textContent(), { timeout: 3000 }).toBe('0');
    expect(await tile(page, 'bytes').textContent()).toBe('0 B');
    expect(await tile(page, 'errors').textContent()).toBe('0');
  });

  it('shows that it lost the agent, and recovers with fresh state when the agent comes back', async () => {
    const p = await publish({ type: 'web-api', name: 'survivor', addr: '127.0.0.1:9000' });
    await rowOf(page, 'survivor').waitFor({ timeout: 2000 });
    agent.kill();
    await agent.exited();
    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('reconnecting');

    agent = await spawnAgent(agentConfig(listen, port));
    await banner.waitFor({ state: 'hidden', timeout: 20_000 });
    await rowOf(page, 'survivor').waitFor({ timeout: 5000 });
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('open');
    await p.kill();
    publishers.delete(p);
    // Works offline: nothing but the agent was ever asked for anything (no CDN, no fonts, no telemetry).
    const origin = new URL(agent.url).origin;
    expect(opened.requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(opened.requests.some((u) => u.endsWith('/app.js'))).toBe(true);
    // Connection errors while the agent was down are expected; a CSP violation never is.
    expect(opened.errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    expect(opened.dialogs).toEqual([]);
  });
});

describe.skipIf(!IN_TEST_NETNS || !CHROMIUM_AVAILABLE)('protected and disabled admin actions', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('asks for the token, shows the refusal of a wrong one, and resets with the right one', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vm-web-token-'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'correct-horse-battery-staple\n', { mode: 0o600 });
    const port = await freeUdpPort();
    const agent = await spawnAgent(
      agentConfig(`127.0.0.1:${await freeTcpPort()}`, port, { auth: { tokenFile } }),
    );
    cleanups.push(() => agent.stop());
    const p = await startPublisher({
      group: GROUP,
      port,
      message: { type: 'svc', name: 'gamma', addr: '127.0.0.1:1' },
    });
    cleanups.push(() => p.kill());
    const opened = await openPage(agent.url);
    cleanups.push(() => opened.close());
    const page = opened.page;
    await rowOf(page, 'gamma').waitFor({ timeout: 5000 });
    await p.kill();
    await expect
      .poll(async () => Number((await tile(page, 'packets').textContent())?.replace(/,/g, '')))
      .toBeGreaterThan(0);
    // Packets sent just before the kill may still be counted: wait until two metrics events agree.
    let before = await tile(page, 'packets').textContent();
    for (let i = 0; i < 10; i++) {
      await page.waitForTimeout(1200);
      const now = await tile(page, 'packets').textContent();
      if (now === before) break;
      before = now;
    }
    expect(before).not.toBe('0');
    expect(await page.locator('.group-actions .hint').first().textContent()).toMatch(/token/);

    const reset = page.locator(
      `section.tile-group[data-name="${LISTENER}"] button[data-action="reset-metrics"]`,
    );
    await reset.click();
    const dialog = page.locator('#auth-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Bearer token').fill('wrong-token');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/Refused by the agent \(401/);
    await page.waitForTimeout(1500);
    expect(await tile(page, 'packets').textContent()).toBe(before);

    // Cancelling sends nothing and says so.
    await reset.click();
    await dialog.waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/cancelled/);

    await reset.click();
    await dialog.waitFor({ state: 'visible' });
    await page.getByLabel('Bearer token').fill('correct-horse-battery-staple');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/Reset Metrics done/);
    await expect.poll(() => tile(page, 'packets').textContent(), { timeout: 3000 }).toBe('0');
    expect(opened.dialogs).toEqual([]);
  });

  it('sends a user name and password when the agent wants basic auth', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vm-web-basic-'));
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'pässwörd\n', { mode: 0o600 });
    const agent = await spawnAgent(
      agentConfig(`127.0.0.1:${await freeTcpPort()}`, await freeUdpPort(), {
        auth: { basic: { username: 'ops', passwordFile } },
      }),
    );
    cleanups.push(() => agent.stop());
    const opened = await openPage(agent.url);
    cleanups.push(() => opened.close());
    const page = opened.page;
    const refresh = page.locator(`section.tile-group[data-name="${LISTENER}"] button[data-action="refresh"]`);
    await expect
      .poll(() => page.locator('.group-actions .hint').first().textContent())
      .toMatch(/user name and password/);
    await refresh.click();
    await page.locator('#auth-dialog').waitFor({ state: 'visible' });
    expect(await page.getByLabel('Bearer token').isVisible()).toBe(false);
    await page.getByLabel('User name').fill('ops');
    await page.getByLabel('Password').fill('pässwörd');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/Refresh done/);
    // Remembered for this tab: the next action goes through without asking again.
    await page.evaluate(`document.getElementById('message').textContent = ''`);
    await refresh.click();
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/Refresh done/);
    expect(await page.locator('#auth-dialog').isVisible()).toBe(false);
  });

  it('disables Refresh and Reset Metrics with the reason when admin actions are off', async () => {
    const agent = await spawnAgent(
      agentConfig(`127.0.0.1:${await freeTcpPort()}`, await freeUdpPort(), { enableAdmin: false }),
    );
    cleanups.push(() => agent.stop());
    const opened = await openPage(agent.url);
    cleanups.push(() => opened.close());
    const page = opened.page;
    const reset = page.locator(
      `section.tile-group[data-name="${LISTENER}"] button[data-action="reset-metrics"]`,
    );
    await reset.waitFor({ timeout: 5000 });
    await expect.poll(() => reset.isDisabled()).toBe(true);
    expect(
      await page
        .locator(`section.tile-group[data-name="${LISTENER}"] button[data-action="refresh"]`)
        .isDisabled(),
    ).toBe(true);
    const hintId = await reset.getAttribute('aria-describedby');
    expect(await page.locator(`#${hintId}`).textContent()).toMatch(/disabled on this agent/);
  });
});
