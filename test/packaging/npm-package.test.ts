/**
 * The npm package as users get it: `npm pack` holds only the built library, its type declarations, the web
 * page, the default and example configs, README, LICENSE and CHANGELOG; installed from the tarball into an
 * empty project (with the dependency versions of the project's lock) it imports from ESM, type-checks from
 * TypeScript with the project's tsc, and its `vault-multicast` bin runs.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanPath, NOT_CACHED_HINT, NPM_OFFLINE_ENV, runCollect } from './process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = resolve(ROOT, 'node_modules/.bin/tsc');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const work = mkdtempSync(join(tmpdir(), 'vm-pack-'));
const consumer = join(work, 'consumer');
let files: string[] = [];

const env = { PATH: cleanPath(), HOME: process.env.HOME ?? '/root', ...NPM_OFFLINE_ENV };

beforeAll(async () => {
  if (!existsSync(resolve(ROOT, 'dist/src/index.js')))
    throw new Error('dist/ is not built: run `npm run build`');
  // --ignore-scripts: pack the build under test (npm test builds first) instead of rebuilding in prepack.
  const packed = await runCollect('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: ROOT,
    env,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.out}`);
  const json = packed.out.slice(packed.out.indexOf('['));
  const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error('npm pack printed no package');
  files = info.files.map((f) => f.path).sort();

  // An empty project that depends on the tarball, locked to the dependency versions the project's own lock
  // pins (its production subset): the install is then deterministic and served offline by the npm cache,
  // where a fresh resolution would want whatever was published since.
  await runCollect('mkdir', ['-p', consumer]);
  const spec = `file:../${info.filename}`;
  const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const root = { name: 'consumer', version: '1.0.0', dependencies: { [pkg.name]: spec } };
  const packages: Record<string, unknown> = {
    '': root,
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ ...root, private: true, type: 'module' }));
  writeFileSync(
    join(consumer, 'package-lock.json'),
    JSON.stringify({ ...root, lockfileVersion: 3, requires: true, packages }),
  );
  const installed = await runCollect('npm', ['ci'], { cwd: consumer, env, timeoutMs: 240_000 });
  if (installed.code !== 0) {
    const hint = installed.out.includes('ENOTCACHED') ? NOT_CACHED_HINT : '';
    throw new Error(`npm ci of the tarball failed:\n${installed.out}${hint}`);
  }
}, 300_000);

afterAll(() => rm(work, { recursive: true, force: true }), 120_000);

describe('npm package', () => {
  it('holds what users need', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'dist/web/index.html',
      'dist/web/app.js',
      'config/agent.yaml',
      'config/examples/kubernetes-daemonset.yaml',
      'config/examples/vault-multicast.service',
    ]) {
      expect(files, f).toContain(f);
    }
  });

  it('holds nothing else: no sources, tests, benchmarks, source maps or build leftovers', () => {
    const allowed =
      /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/src\/.+\.(js|d\.ts)|dist\/web\/[^/]+|config\/agent\.yaml|config\/examples\/[^/]+\.(yaml|service))$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    // Every compiled module comes from a current source file: no output of a deleted module ships.
    const stale = files
      .filter((f) => f.startsWith('dist/src/') && f.endsWith('.js'))
      .filter((f) => !existsSync(resolve(ROOT, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))));
    expect(stale).toEqual([]);
  });

  it('imports from ESM through the package exports', async () => {
    const script = `
      import { VaultMultiListener, VaultMultiPublisher, ServiceRegistry, decodeAnnouncement, encodeAnnouncement } from 'vault-multicast';
      import meta from 'vault-multicast/package.json' with { type: 'json' };
      const bytes = encodeAnnouncement({ type: 'Web', name: 'a', addr: '192.0.2.1:80' });
      const decoded = decodeAnnouncement(bytes, { maxBytes: 1400 });
      console.log(JSON.stringify({
        listener: typeof VaultMultiListener, publisher: typeof VaultMultiPublisher, registry: typeof ServiceRegistry,
        ok: decoded.ok, version: meta.version,
      }));
    `;
    const res = await runCollect(process.execPath, ['--input-type=module', '-e', script], {
      cwd: consumer,
      env,
    });
    expect(res.code, res.out).toBe(0);
    expect(JSON.parse(res.out.trim().split('\n').pop() ?? '')).toEqual({
      listener: 'function',
      publisher: 'function',
      registry: 'function',
      ok: true,
      version: pkg.version,
    });
  });

  it('refuses deep imports the exports map does not offer', async () => {
    const res = await runCollect(
      process.execPath,
      ['--input-type=module', '-e', "import 'vault-multicast/dist/src/codec.js'"],
      {
        cwd: consumer,
        env,
      },
    );
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  const tsconfig = (file: string) =>
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        typeRoots: [resolve(ROOT, 'node_modules/@types')],
        types: ['node'],
      },
      files: [file],
    });

  it('type-checks a TypeScript consumer against the installed declarations', async () => {
    writeFileSync(
      join(consumer, 'use.ts'),
      `import { VaultMultiListener, VaultMultiPublisher, type ServiceRecord } from 'vault-multicast';
const listener = new VaultMultiListener({ group: '239.255.77.1', port: 5004, interfaces: ['127.0.0.1'] });
listener.on('up', (rec: ServiceRecord) => console.log(rec.name, rec.addr, rec.state));
const publisher = new VaultMultiPublisher({ group: '239.255.77.1', port: 5004, message: { type: 'Web', name: 'a' } });
const running: boolean = listener.isRunning() && publisher.isRunning();
export { running };
`,
    );
    writeFileSync(join(consumer, 'tsconfig.json'), tsconfig('use.ts'));
    const res = await runCollect(TSC, ['-p', 'tsconfig.json'], { cwd: consumer, env });
    expect(res.out).toBe('');
    expect(res.code).toBe(0);
  });

  it('gives TypeScript real types: a wrong option type is an error', async () => {
    writeFileSync(
      join(consumer, 'wrong.ts'),
      `import { VaultMultiListener } from 'vault-multicast';
export const l = new VaultMultiListener({ port: 'five thousand' });
`,
    );
    writeFileSync(join(consumer, 'tsconfig.wrong.json'), tsconfig('wrong.ts'));
    const res = await runCollect(TSC, ['-p', 'tsconfig.wrong.json'], { cwd: consumer, env });
    expect(res.code).not.toBe(0);
    expect(res.out).toMatch(/wrong\.ts.*not assignable to type 'number/s);
  });

  it('installs a working vault-multicast bin', async () => {
    const res = await runCollect(join(consumer, 'node_modules/.bin/vault-multicast'), ['--version'], {
      cwd: consumer,
      env,
    });
    expect(res.code, res.out).toBe(0);
    expect(res.out.trim()).toBe(pkg.version);
  });
});
