/**
 * The page as a service picker, in headless Chromium against the real agent and its publishers (everything on
 * 127.0.0.1 inside the test namespace): filters preset from the URL, the "Active services" tile following
 * them, the list on the first screen at 1280×800, the absolute last-seen time, and embed mode — a parent
 * page on an allowed origin receives Connect's postMessage, a page on another origin cannot frame the page.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/agent/config/load.js';
import { REPO_ROOT, type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeTcpPort, freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { axeViolations } from './axe.js';
import { CHROMIUM_AVAILABLE, type OpenedPage, openPage } from './browser.js';

const GROUP = '224.1.1.1';

const SERVICES: Record<string, unknown>[] = [
  { type: 'VaultLibrary', name: 'library-east', addr: '127.0.0.1:8200', version: '1.17.2', shelf: 'e' },
  { type: 'VaultLibrary', name: 'library-west', addr: '127.0.0.1:8201', version: '1.17.2' },
  { type: 'VaultLibrary', name: 'library-north', addr: '127.0.0.1:8202', version: '1.16.9' },
  { type: 'postgres', name: 'orders-db', addr: '127.0.0.1:5432', version: '16.4' },
];

/** A page on its own origin (127.0.0.1, another port) that frames the agent's page and records messages. */
async function parentPage(frameUrl: string): Promise<{ url: string; server: Server }> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>application</title></head><body>
<h1>Application</h1>
<iframe id="picker" title="services" src="${frameUrl}" style="width:1200px;height:700px"></iframe>
<script>
  window.received = [];
  window.addEventListener('message', (ev) => window.received.push({ origin: ev.origin, data: ev.data }));
</script></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  const port = await freeTcpPort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}`, server };
}

describe.skipIf(!IN_TEST_NETNS || !CHROMIUM_AVAILABLE)('the page as a service picker', () => {
  let agent: SpawnedAgent;
  let allowed: { url: string; server: Server };
  let other: { url: string; server: Server };
  const pages: OpenedPage[] = [];

  const open = async (path: string, viewport = { width: 1280, height: 800 }) => {
    const opened = await openPage(`${agent.url}${path}`, { viewport });
    pages.push(opened);
    await opened.page.locator('#connection[data-state="open"]').waitFor({ timeout: 20_000 });
    return opened;
  };
  const row = (page: Page, name: string) =>
    page.locator('#services-table tbody tr').filter({ has: page.getByRole('button', { name, exact: true }) });
  const activeTile = (page: Page) =>
    page.locator('section.tile-group[data-kind="listener"] dd[data-metric="active_services"]');

  beforeAll(async () => {
    const port = await freeUdpPort();
    const listen = `127.0.0.1:${await freeTcpPort()}`;
    allowed = await parentPage(`http://${listen}/?type=VaultLibrary`);
    other = await parentPage(`http://${listen}/`);
    agent = await spawnAgent({
      http: { listen, enableAdmin: true, embedOrigins: [allowed.url] },
      metrics: { processMetrics: false },
      listeners: [{ name: 'lan', group: GROUP, port, interfaces: ['127.0.0.1'] }],
      // Four publishers and a listener: as many tile groups as the issue saw push the list off the screen.
      publishers: SERVICES.map((message, i) => ({
        name: `pub-${i}`,
        group: GROUP,
        port,
        interface: '127.0.0.1',
        ttl: 0,
        interval: '1s',
        message,
      })),
    });
  });

  afterAll(async () => {
    for (const p of pages) await p.close();
    await agent?.stop();
    for (const s of [allowed, other]) await new Promise((r) => s?.server.close(r));
  });

  it('presets the type filter and search from ?type= and ?q=, and keeps the filters in the URL', async () => {
    const { page, errors } = await open('/?type=VaultLibrary&q=east');
    await row(page, 'library-east').waitFor({ timeout: 5000 });
    expect(await page.getByLabel('Type filter').inputValue()).toBe('VaultLibrary');
    expect(await page.getByLabel(/^Search/).inputValue()).toBe('east');
    expect(await page.locator('#services-table tbody button.select').allTextContents()).toEqual([
      'library-east',
    ]);
    await page.getByLabel(/^Search/).fill('');
    await expect.poll(() => page.url()).toBe(`${agent.url}/?type=VaultLibrary`);
    await page.getByLabel('Type filter').fill('postgres');
    await expect.poll(() => page.url()).toBe(`${agent.url}/?type=postgres`);
    // A reload (or a shared link) shows the same view.
    await page.reload();
    await row(page, 'orders-db').waitFor({ timeout: 5000 });
    expect(await page.getByLabel('Type filter').inputValue()).toBe('postgres');
    expect(errors).toEqual([]);
  });

  it('the "Active services" tile follows the filters: "3 of 4"', async () => {
    const { page } = await open('/?type=VaultLibrary');
    await expect.poll(() => activeTile(page).textContent(), { timeout: 10_000 }).toBe('3 of 4');
    expect(await page.locator('#summary').textContent()).toMatch(/^Showing 3 of 4 services/);
    await page.getByLabel(/^Search/).fill('west');
    await expect.poll(() => activeTile(page).textContent()).toBe('1 of 4');
    await page.getByLabel('Type filter').fill('');
    await page.getByLabel(/^Search/).fill('');
    await expect.poll(() => activeTile(page).textContent()).toBe('4');
  });

  it('shows the services list on the first screen at 1280×800 with four publishers, and the last-seen time of day', async () => {
    const { page } = await open('/');
    for (const s of SERVICES) await row(page, String(s.name)).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('section.tile-group').count()).toBe(5);
    const heading = await page.locator('#services-title').boundingBox();
    const rows = page.locator('#services-table tbody tr');
    const fourth = await rows.nth(3).boundingBox();
    expect(heading && fourth).toBeTruthy();
    expect(heading!.y).toBeLessThan(800 / 2);
    expect(fourth!.y + fourth!.height).toBeLessThanOrEqual(800);
    // The widget's HH:MM:SS, on this computer's clock, next to how long ago.
    const lastSeen = row(page, 'orders-db').locator('td.col-lastSeen');
    expect(await lastSeen.locator('.clock').textContent()).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(await lastSeen.locator('.ago').textContent()).toMatch(/ago$|^just now$/);
    // Every tile is still reachable: the group area scrolls.
    expect(await axeViolations(page)).toEqual([]);
    if (process.env.VM_SCREENSHOTS) {
      await row(page, 'library-east').locator('button.select').click();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(REPO_ROOT, 'docs', 'screenshots', 'list-1280x800.png') });
    }
  });

  it('frame-ancestors lists exactly http.embedOrigins (and the page stays unframeable by default)', async () => {
    const res = await agent.fetch('/');
    expect(res.headers['content-security-policy']).toMatch(new RegExp(`; frame-ancestors ${allowed.url}$`));
    expect(res.headers['x-frame-options']).toBeUndefined();
    await expect(
      parseConfig('http:\n  embedOrigins: ["https://app.example/path"]\n', 'agent.yaml'),
    ).rejects.toThrow(
      /http\.embedOrigins\[0\]: 'https:\/\/app\.example\/path' is not an origin: .*\(here: https:\/\/app\.example\)/,
    );
  });

  it('embed mode: Connect posts the chosen announcement to a parent on an allowed origin', async () => {
    const opened = await openPage(allowed.url, { viewport: { width: 1280, height: 800 } });
    pages.push(opened);
    const { page } = opened;
    const frame = page.frameLocator('#picker');
    await frame.getByRole('button', { name: 'library-east', exact: true }).click({ timeout: 10_000 });
    // Only the preset type shows in the frame.
    expect(await frame.getByRole('button', { name: 'orders-db', exact: true }).count()).toBe(0);
    const connect = frame.locator('#details-connect');
    await expect.poll(() => connect.textContent()).toBe('Connect (send to application)');
    await connect.click();
    await expect.poll(() => page.evaluate('window.received.length')).toBe(1);
    const [message] = (await page.evaluate('window.received')) as {
      origin: string;
      data: { type: string; data: Record<string, unknown>; service: { addr: string } };
    }[];
    expect(message!.origin).toBe(agent.url);
    expect(message!.data.type).toBe('vault-multicast:connect');
    expect(message!.data.data).toMatchObject({ name: 'library-east', addr: '127.0.0.1:8200', shelf: 'e' });
    expect(message!.data.service.addr).toBe('127.0.0.1:8200');
    await expect
      .poll(() => frame.locator('#message').textContent())
      .toBe('Sent library-east to the application.');
    expect(opened.errors).toEqual([]);
  });

  it('a page on another origin cannot frame the page', async () => {
    const opened = await openPage(other.url, { viewport: { width: 1280, height: 800 } });
    pages.push(opened);
    const { page } = opened;
    await expect
      .poll(() => opened.errors.some((e) => /frame-ancestors/.test(e)), { timeout: 10_000 })
      .toBe(true);
    const child = page.frames().find((f) => f !== page.mainFrame());
    expect(child).toBeDefined();
    expect(await child!.locator('#services').count()).toBe(0);
    expect(await page.evaluate('window.received.length')).toBe(0);
  });
});
