/**
 * The discovery page and the service APIs at 10,000 and 100,000 services on one listener, in an agent in this
 * process (HTTP on 127.0.0.1, in a network namespace of its own), fed through listener.ingest():
 * - snapshot: a client takes the event stream's snapshot; how long until its last byte, the longest stall of
 *   the agent's event loop meanwhile, and what serialising every view in one piece costs (the stall it was);
 * - list: the same for the unpaged GET /api/v1/services, and one page of 100 at the far end;
 * - page: real Chromium opens the page; time until the table counts every service, the rows in the DOM, the
 *   longest task while 3,000 services change over 3 s, and the page's JS heap after a collection.
 *
 *   npm run bench -- page                        VM_BENCH_PAGE=10000,100000 to choose the sizes
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Agent } from '../src/agent/agent.js';
import { loadConfigFile } from '../src/agent/config/load.js';
import { createLogger } from '../src/agent/logger.js';
import { servicePage } from '../src/agent/views.js';
import { encodeAnnouncement } from '../src/discovery/codec.js';
import { LONGEST_TASK, WATCH_LONG_TASKS } from './long-tasks.js';
import { inOwnNamespace } from './own-namespace.js';

const CHROMIUM = '/usr/bin/chromium';
const sizes = (process.env.VM_BENCH_PAGE ?? '10000,100000').split(',').map(Number);
/** VM_BENCH_WEB_ROOT: another build of the page (e.g. an older commit's dist/web), to compare. */
const webRoot = process.env.VM_BENCH_WEB_ROOT ?? fileURLToPath(new URL('../web', import.meta.url));

async function watchLoop(work: () => Promise<void>): Promise<{ ms: number; stallMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  delay.disable();
  return { ms, stallMs: delay.max / 1e6 };
}

/** Reads a response to its end, or to the end of the event stream's first frame; the bytes. */
async function drain(url: string, untilFrameEnd: boolean): Promise<number> {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (untilFrameEnd && Buffer.from(value).includes(']}\n\n')) break;
  }
  await reader.cancel();
  return bytes;
}

async function runSize(n: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vm-page-bench-'));
  const configPath = join(dir, 'agent.yaml');
  await writeFile(
    configPath,
    `http: {listen: "127.0.0.1:0"}
metrics: {maxServiceSeries: ${n}}
listeners:
  - {name: big, group: 224.1.1.45, port: 47999, interfaces: [127.0.0.1], maxServices: ${n}, serviceTimeout: 1h}
`,
  );
  const logger = createLogger({ level: 'error', destination: { write: () => {} } });
  const agent = new Agent({ logger, webRoot, loadConfig: () => loadConfigFile(configPath, {}) });
  await agent.start(await loadConfigFile(configPath, {}));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const listener = agent.listenerEntry('big')!.listener;
    const announce = (i: number, seq: number, version: string) => {
      const bytes = encodeAnnouncement(
        {
          type: `svc-${i % 10}`,
          name: `node-${i}`,
          addr: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:8200`,
          version,
        },
        { seq, timestamp: Date.now() / 1000 },
      );
      listener.ingest(bytes, { address: '198.18.0.1', port: 5004, family: 'IPv4', size: bytes.length });
    };
    for (let i = 0; i < n; i++) announce(i, 1, '1.0');
    const url = `http://127.0.0.1:${agent.httpAddress!.port}`;
    const onePiece = await watchLoop(async () => {
      JSON.stringify(servicePage(agent, {}, performance.now()).services);
    });
    let snapshotBytes = 0;
    const snapshot = await watchLoop(async () => {
      snapshotBytes = await drain(`${url}/api/v1/events`, true);
    });
    const list = await watchLoop(async () => void (await drain(`${url}/api/v1/services`, false)));
    const paged = await watchLoop(
      async () => void (await drain(`${url}/api/v1/services?limit=100&offset=${n - 100}`, false)),
    );

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const start = performance.now();
    await page.goto(url);
    await page
      .locator('#summary')
      .filter({ hasText: new RegExp(`^Showing \\d+ of ${n} services`) })
      .waitFor({ timeout: 120_000 });
    const firstRowsMs = performance.now() - start;
    const rows = await page.locator('#services-table tbody tr[data-id]').count();
    // A burst: 3,000 services change, 100 every 100 ms; the longest task the browser reports meanwhile.
    await page.evaluate(`performance.clearMeasures('vault-multicast:render')`);
    await page.evaluate(WATCH_LONG_TASKS);
    for (let i = 0; i < 3000; i += 100) {
      for (let k = i; k < i + 100; k++) announce((k * 31) % n, 2, 'burst');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const burstTaskMs = (await page.evaluate(LONGEST_TASK)) as number;
    // The page's own redraws (app.ts measures each): a full re-sort before, only the changed services now.
    const renderMs = (await page.evaluate(
      `performance.getEntriesByName('vault-multicast:render').map((e) => e.duration).sort((a, b) => a - b)`,
    )) as number[];
    const median = renderMs[Math.floor(renderMs.length / 2)] ?? Number.NaN;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    console.log(
      [
        String(n).padStart(8),
        mib(snapshotBytes).padStart(11),
        ms(onePiece.ms).padStart(11),
        ms(snapshot.ms).padStart(11),
        ms(snapshot.stallMs).padStart(11),
        ms(list.ms).padStart(11),
        ms(list.stallMs).padStart(11),
        ms(paged.ms).padStart(11),
        ms(firstRowsMs).padStart(12),
        String(rows).padStart(6),
        ms(median).padStart(12),
        (burstTaskMs === 0 ? 'none' : ms(burstTaskMs)).padStart(12),
        mib(heap.usedSize).padStart(11),
      ].join(''),
    );
  } finally {
    await browser.close();
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await inOwnNamespace('page', fileURLToPath(import.meta.url), async () => {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`page: ${CHROMIUM} not found; skipped\n`);
    return;
  }
  console.log(
    `# page: Node ${process.version}, ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${new Date().toISOString()}`,
  );
  console.log(
    `${'services'.padStart(8)}${'snapshot'.padStart(11)}${'one piece'.padStart(11)}${'sliced'.padStart(11)}` +
      `${'stall'.padStart(11)}${'list'.padStart(11)}${'stall'.padStart(11)}${'page 100'.padStart(11)}` +
      `${'first rows'.padStart(12)}${'rows'.padStart(6)}${'redraw'.padStart(12)}${'burst task'.padStart(12)}${'JS heap'.padStart(11)}`,
  );
  for (const n of sizes) await runSize(n);
  console.log(
    '# one piece: every view serialised at once (the stall a snapshot or unpaged list used to cost); sliced: the ' +
      'snapshot as a client receives it, with the longest event-loop stall meanwhile; list: unpaged ' +
      "/api/v1/services; first rows: page load until the table counts every service; burst task: the page's " +
      'longest task (50 ms or more; none: no such task) while 3,000 services change over 3 s; rows: in the DOM; redraw: the ' +
      "median of the page's redraws during the burst; JS heap after a collection",
  );
});
