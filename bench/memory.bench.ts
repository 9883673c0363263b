/**
 * What a service costs in memory, stage by stage, each size in a fresh process (bench/memory-run.ts): heap and
 * buffers after the services entered through listener.ingest() (the registry), after one /metrics scrape (its
 * label cache) and after one OTLP export (its attribute cache), beyond the same process with no service; then
 * RSS. Node is started as the image starts the agent (Dockerfile). Memory figures do not depend on the load of
 * the machine, so they stay valid on a busy one.
 *
 *   npm run bench -- memory                       VM_BENCH_MEMORY=10000,100000 to choose the sizes
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const sizes = (process.env.VM_BENCH_MEMORY ?? '10000,50000,100000').split(',').map(Number);
const script = fileURLToPath(new URL('./memory-run.js', import.meta.url));
const flags = ['--expose-gc', '--max-semi-space-size=16'];

console.log(`# memory: Node ${process.version}, ${flags.join(' ')}, ${new Date().toISOString()}`);
const cols = ['services', 'sources', 'registry B/svc', '/metrics B/svc', 'OTLP B/svc', 'total B/svc', 'RSS'];
console.log(cols.map((c, i) => c.padStart(i === 0 ? 9 : 16)).join(''));
for (const n of sizes) {
  // One sender for all, then one sender per service (every host announcing its own service).
  for (const sources of [1, n]) {
    const out = execFileSync(process.execPath, [...flags, script, String(n), String(sources)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 600_000,
    });
    const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    const cells = [
      String(n),
      String(sources),
      String(r.registryPerService),
      String(r.metricsPerService),
      String(r.otlpPerService),
      String(r.totalPerService),
      `${((r.rss ?? Number.NaN) / 1048576).toFixed(0)} MiB`,
    ];
    console.log(cells.map((c, i) => c.padStart(i === 0 ? 9 : 16)).join(''));
  }
}
console.log(
  `# B/svc: heap + external bytes per service beyond the empty agent (two announcements per service, ~117 bytes each); RSS of the whole process`,
);
