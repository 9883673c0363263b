/**
 * How a scrape and an OTLP export grow with the number of services (1,000 to 100,000), each size in a fresh
 * process (bench/scale-run.ts) so one size's heap does not colour the next: /metrics over HTTP on 127.0.0.1,
 * cold (one scrape a second, as Prometheus scrapes, not back to back), as Prometheus asks for it (OpenMetrics,
 * gzip) and as plain text; the longest event-loop stall during the scrapes and during OTLP exports (protobuf,
 * the default); body sizes; the process's RSS after it all, with Node started as the image starts the agent.
 *
 *   npm run bench -- scale                        VM_BENCH_SCALE=1000,100000 to choose the sizes
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { prioritise } from './priority.js';

const sizes = (process.env.VM_BENCH_SCALE ?? '1000,10000,50000,100000').split(',').map(Number);
const script = fileURLToPath(new URL('./scale-run.js', import.meta.url));

console.log(
  `# scale: Node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${new Date().toISOString()}`,
);
const cols = [
  'services',
  'scrape OM+gzip',
  'scrape text',
  'stall scrape',
  'code',
  'first scrape',
  'body text',
  'body gzip',
  'OTLP cpu',
  'OTLP wall',
  'stall OTLP',
  'code',
  'first export',
  'RSS scrapes',
  'RSS',
];
console.log(cols.map((c, i) => c.padStart(i === 0 ? 9 : 15)).join(''));
/** Runs a size in its own session with the top autogroup weight (priority.ts); its stdout. */
function runPrioritised(command: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd = '', ...args] = command;
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    prioritise(child);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`exit ${code}`));
    });
  });
}

let failed = false;
for (const n of sizes) {
  try {
    const out = await runPrioritised([
      'nice',
      '-n',
      '-20',
      process.execPath,
      '--expose-gc',
      // As the image runs the agent (Dockerfile): RSS is the figure the issue sets a goal for.
      '--max-semi-space-size=16',
      script,
      String(n),
    ]);
    const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    const ms = (v: number | undefined) => `${(v ?? Number.NaN).toFixed(1)} ms`;
    const pair = (a: number | undefined, b: number | undefined) =>
      `${(a ?? Number.NaN).toFixed(1)}/${(b ?? Number.NaN).toFixed(1)} ms`;
    const mib = (v: number | undefined) => `${((v ?? Number.NaN) / 1048576).toFixed(1)} MiB`;
    const cells = [
      String(n),
      ms(r.scrapeGzipMs),
      ms(r.scrapeTextMs),
      ms(r.scrapeStallMs),
      ms(r.scrapeCodeStallMs),
      pair(r.firstScrapeStallMs, r.firstScrapeCodeStallMs),
      mib(r.bodyBytes),
      mib(r.gzipBytes),
      ms(r.otlpCpuMs),
      ms(r.otlpWallMs),
      ms(r.otlpStallMs),
      ms(r.otlpCodeStallMs),
      pair(r.firstOtlpStallMs, r.firstOtlpCodeStallMs),
      mib(r.rssScrapes),
      mib(r.rss),
    ];
    console.log(cells.map((c, i) => c.padStart(i === 0 ? 9 : 15)).join(''));
  } catch (err) {
    failed = true;
    console.log(`${String(n).padStart(9)}  failed: ${(err as Error).message.split('\n')[0]}`);
  }
}
console.log(
  '# scrape: median of 5 cold scrapes (one a second) over HTTP after a first of each kind; OTLP: median of 3 exports of every family after a first; stall: the longest over them (the process\'s first scrapes and first export apart: stall/code), "code" the same without the V8 collections, the waits for a core and the host\'s pauses of the CPU in it; RSS after the scrapes, then after the exports too',
);
if (failed) process.exit(1);
