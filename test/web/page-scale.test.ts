/**
 * The discovery page and the agent's service APIs at 100,000 services on one listener. The services enter
 * through listener.ingest(), the receive path a socket feeds, in an agent running in this process, so that
 * the agent's event loop can be watched while a client takes the snapshot or the unpaged list. The page is
 * real Chromium: its table holds only a viewport's worth of rows, yet scrolling reaches the last service and
 * filters and sorts see every one.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LONGEST_TASK, WATCH_LONG_TASKS } from '../../bench/long-tasks.js';
import { servicePage } from '../../src/agent/views.js';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { startTestAgent, type TestAgent } from '../agent/in-process.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { CHROMIUM_AVAILABLE, type OpenedPage, openPage } from './browser.js';

const SERVICES = 100_000;
const LISTENER = 'big';

function announce(t: TestAgent, i: number, seq: number, version = '1.0'): void {
  const bytes = encodeAnnouncement(
    {
      type: `svc-${i % 10}`,
      name: `node-${i}`,
      addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8200`,
      version,
    },
    { seq, timestamp: Date.now() / 1000 },
  );
  t.agent
    .listenerEntry(LISTENER)!
    .listener.ingest(bytes, { address: '198.18.0.1', port: 5004, family: 'IPv4', size: bytes.length });
}

/** Runs `work` while watching this process's event loop; the longest stall in ms. */
async function longestStall(work: () => Promise<void>): Promise<number> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
  }
  return delay.max / 1e6;
}

/**
 * Reads a response to its end (or to the end of the event stream's first frame) and counts the services in
 * it, keeping nothing: 40 MB held in this process would make its collector stall the agent's loop too.
 */
async function countServices(url: string, untilFrameEnd: boolean): Promise<number> {
  const needle = `"listener":"${LISTENER}"`;
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  const reader = res.body!.getReader();
  let carry = '';
  let count = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let text = carry + Buffer.from(value).toString('latin1');
    const end = untilFrameEnd ? text.indexOf(']}\n\n') : -1;
    if (end >= 0) text = text.slice(0, end);
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) count++;
    if (end >= 0) break;
    carry = text.slice(1 - needle.length);
  }
  await reader.cancel();
  return count;
}

describe.skipIf(!IN_TEST_NETNS || !CHROMIUM_AVAILABLE)(`the page and the API at ${SERVICES} services`, () => {
  let t: TestAgent;
  let opened: OpenedPage;
  let page: Page;

  const rows = () => page.locator('#services-table tbody tr[data-id]');
  const names = () => page.locator('#services-table tbody button.select').allTextContents();

  beforeAll(async () => {
    const port = await freeUdpPort();
    t = await startTestAgent(
      `
http:
  listen: @HTTP@
metrics:
  maxServiceSeries: ${SERVICES}
listeners:
  - {name: ${LISTENER}, group: 224.1.1.44, port: ${port}, interfaces: [127.0.0.1], maxServices: ${SERVICES}, serviceTimeout: 1h}
`,
      {},
      'warn',
      join(process.cwd(), 'dist/web'),
    );
    for (let i = 0; i < SERVICES; i++) announce(t, i, 1);
    expect(t.agent.listenerEntry(LISTENER)!.listener.registry.size).toBe(SERVICES);
  }, 120_000);

  afterAll(async () => {
    await opened?.close();
    await t?.close();
  });

  it('builds the event-stream snapshot and the unpaged list in slices: the agent’s loop never stalls for long', async () => {
    // In 2 ms slices the stalls left are the slices plus what the collector and the test's own reader add: a
    // fraction of serialising in one piece (what the loop was held for before), measured just before. A
    // machine busy with other tests can starve this process for as long at any moment, so the best of three
    // rounds counts; a stall that serialising causes comes in every round.
    const rounds: { onePieceMs: number; snapshotStall: number; listStall: number }[] = [];
    for (let round = 0; round < 3; round++) {
      // A change first, so that the snapshot is built for this client rather than taken from the cache.
      announce(t, 40 + round, 2);
      const onePieceStart = performance.now();
      JSON.stringify(servicePage(t.agent, {}, performance.now()).services);
      const onePieceMs = performance.now() - onePieceStart;
      let inSnapshot = 0;
      const snapshotStall = await longestStall(async () => {
        inSnapshot = await countServices(`${t.url}/api/v1/events`, true);
      });
      expect(inSnapshot).toBe(SERVICES);
      let inList = 0;
      const listStall = await longestStall(async () => {
        inList = await countServices(`${t.url}/api/v1/services`, false);
      });
      expect(inList).toBe(SERVICES);
      console.log(
        `one piece ${onePieceMs.toFixed(0)} ms; longest stall while a client took the snapshot ` +
          `${snapshotStall.toFixed(1)} ms, the unpaged list ${listStall.toFixed(1)} ms`,
      );
      rounds.push({ onePieceMs, snapshotStall, listStall });
      if (snapshotStall < onePieceMs / 2 && listStall < onePieceMs / 2) break;
    }
    const best = rounds.reduce((a, b) =>
      Math.max(a.snapshotStall, a.listStall) / a.onePieceMs <=
      Math.max(b.snapshotStall, b.listStall) / b.onePieceMs
        ? a
        : b,
    );
    expect(best.snapshotStall).toBeLessThan(best.onePieceMs / 2);
    expect(best.listStall).toBeLessThan(best.onePieceMs / 2);
    // A page of the list is built alone, however far into the registry it starts.
    const paged = (await (
      await fetch(`${t.url}/api/v1/services?limit=100&offset=${SERVICES - 50}`)
    ).json()) as {
      services: unknown[];
      total: number;
    };
    expect(paged.total).toBe(SERVICES);
    expect(paged.services).toHaveLength(50);
  }, 120_000);

  it('sends a client whose snapshot is being built the changes made meanwhile, after the snapshot', async () => {
    // Any change first, so that this client's snapshot is built for it rather than taken from the cache.
    announce(t, 20, 2);
    const res = await fetch(`${t.url}/api/v1/events`, { signal: AbortSignal.timeout(60_000) });
    // Headers are out: the snapshot is being built now, in slices; node-10 (type svc-0) is among the first
    // serialised, so the snapshot has its old version.
    announce(t, 10, 2, 'during-build');
    const reader = res.body!.getReader();
    const pieces: Buffer[] = [];
    let afterSnapshot = '';
    while (!afterSnapshot.includes('during-build')) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(Buffer.from(value));
      const text = Buffer.from(value).toString('latin1');
      // The snapshot's JSON has no blank line; the first "]}" and blank line end it.
      if (afterSnapshot !== '' || text.includes(']}\n\n'))
        afterSnapshot += afterSnapshot === '' ? text.slice(text.indexOf(']}\n\n')) : text;
    }
    await reader.cancel();
    const text = Buffer.concat(pieces).toString('utf8');
    const frames = text.split('\n\n').filter((f) => f.startsWith('event: '));
    expect(frames[0]).toMatch(/^event: snapshot\n/);
    const snapshot = JSON.parse(frames[0]!.slice(frames[0]!.indexOf('data: ') + 6)) as {
      services: { name: string; version: string }[];
    };
    expect(snapshot.services.find((v) => v.name === 'node-10')?.version).toBe('1.0');
    const change = frames.slice(1).find((f) => f.includes('during-build'));
    expect(change).toMatch(/^event: service\n/);
    expect(change).toContain('"name":"node-10"');
  }, 120_000);

  it('draws only the rows in view, reaches the last service by scrolling, and filters and sorts all of them', async () => {
    opened = await openPage(t.url);
    page = opened.page;
    await expect
      .poll(() => page.locator('#summary').textContent(), { timeout: 60_000 })
      .toMatch(new RegExp(`^Showing ${SERVICES} of ${SERVICES} services`));
    const drawn = await rows().count();
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThan(100);
    expect(await page.locator('#services-table').getAttribute('aria-rowcount')).toBe(String(SERVICES + 1));
    // Sorted by type, then name in natural order: svc-0 node-0 first, svc-9 node-99999 last.
    expect((await names())[0]).toBe('node-0');
    await page.locator('#table-wrap').evaluate((box) => box.scrollTo(0, box.scrollHeight));
    await expect.poll(async () => (await names()).at(-1), { timeout: 10_000 }).toBe('node-99999');
    expect(await rows().last().getAttribute('aria-rowindex')).toBe(String(SERVICES + 1));
    expect(await rows().count()).toBeLessThan(100);

    // The type filter (a substring, as the original's) narrows to a tenth; sorting by name, descending, puts
    // the highest node of that type first.
    await page.locator('#type-filter').fill('svc-3');
    await expect
      .poll(() => page.locator('#summary').textContent(), { timeout: 10_000 })
      .toMatch(new RegExp(`^Showing ${SERVICES / 10} of ${SERVICES} services`));
    await page.locator('#services-table thead th.col-name button').click();
    await page.locator('#services-table thead th.col-name button').click();
    expect(await page.locator('#services-table thead th.col-name').getAttribute('aria-sort')).toBe(
      'descending',
    );
    await page.locator('#table-wrap').evaluate((box) => box.scrollTo(0, 0));
    await expect.poll(async () => (await names())[0], { timeout: 10_000 }).toBe('node-99993');
    expect(await rows().first().getAttribute('aria-rowindex')).toBe('2');

    // Keyboard: End goes to the last match, wherever it is, and Enter selects it.
    await rows().first().locator('button.select').focus();
    await page.keyboard.press('End');
    await expect.poll(() => page.evaluate('document.activeElement?.textContent')).toBe('node-3');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#details').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    expect(opened.errors).toEqual([]);
  }, 180_000);

  it('takes a burst of a thousand changed services a second without long tasks, and shows every change', async () => {
    await page.locator('#type-filter').fill('');
    await page.evaluate(WATCH_LONG_TASKS);
    // 3,000 services announce a new version over three seconds, a hundred every 100 ms.
    for (let i = 0; i < 3000; i += 100) {
      for (let k = i; k < i + 100; k++) announce(t, k * 31, 2, 'burst');
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.locator('#search').fill('burst');
    await expect
      .poll(() => page.locator('#summary').textContent(), { timeout: 20_000 })
      .toMatch(new RegExp(`^Showing 3000 of ${SERVICES} services`));
    const longest = (await page.evaluate(LONGEST_TASK)) as number;
    console.log(`longest task in the page during the burst: ${longest.toFixed(0)} ms`);
    expect(longest).toBeLessThan(1000);
    expect(opened.errors).toEqual([]);
  }, 120_000);
});
