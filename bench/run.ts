/**
 * `npm run bench`: runs every dist/bench/*.bench.js one after another (or only those named on the command
 * line, e.g. `npm run bench -- ingest`), each in its own Node process so one benchmark's heap and JIT state
 * cannot colour the next. Exit code: 1 if any benchmark failed.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
const wanted = process.argv.slice(2).map((a) => basename(a).replace(/\.bench\.(js|ts)$/, ''));
const chosen = wanted.length === 0 ? all : all.filter((f) => wanted.includes(f.replace(/\.bench\.js$/, '')));
const unknown = wanted.filter((w) => !all.includes(`${w}.bench.js`));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; available: ${all.map((f) => f.replace(/\.bench\.js$/, '')).join(', ')}\n`,
  );
  process.exit(2);
}

let failed = 0;
for (const file of chosen) {
  process.stdout.write(`\n=== ${file.replace(/\.bench\.js$/, '')} ===\n`);
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', `${dir}${file}`], { stdio: 'inherit' });
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  process.stdout.write(
    `=== ${file} ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s ===\n`,
  );
  if (code !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
