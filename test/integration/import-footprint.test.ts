/**
 * The original promises a lightweight library: importing vault-multicast must load Node's standard library
 * and the library's own files only — none of the agent's dependencies (express, prom-client, OpenTelemetry...).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const entry = `${root}dist/src/index.js`;
const hook = fileURLToPath(new URL('./helpers/record-resolve.mjs', import.meta.url));

describe.skipIf(!existsSync(entry))('import footprint (built library)', () => {
  it("loads only node: modules and the library's own files, nothing from node_modules", () => {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        hook,
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(entry)}); console.log(Object.keys(m).length);`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const urls = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('resolved '))
      .map((l) => l.slice('resolved '.length));
    const library = urls.filter((u) => u.startsWith('file:'));
    expect(library.length).toBeGreaterThan(5);
    const foreign = urls.filter(
      (u) => !u.startsWith('node:') && !u.startsWith('data:') && !u.startsWith(`file://${root}dist/src/`),
    );
    expect(foreign).toEqual([]);
    // Shared metric names are plain data; the agent's runtime (HTTP, config, exporters) must stay unloaded.
    expect(urls.filter((u) => /\/dist\/src\/(cli|agent\/(http|config|agent))/.test(u))).toEqual([]);
    expect(urls.some((u) => u.includes('node_modules'))).toBe(false);
    expect(Number(run.stdout.trim())).toBeGreaterThan(10);
  });
});
