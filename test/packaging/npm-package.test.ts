/**
 * The npm package as users get it: `npm pack` holds only the built library, its type declarations, the web
 * page, the default and example configs, README, LICENSE and CHANGELOG; installed from the tarball into an
 * empty project (with the dependency versions of the project's lock) it imports from ESM, type-checks from
 * TypeScript with the project's tsc, and its `vault-multicast` bin runs. The README's quick start then runs
 * from the installed package as .mjs, as .cjs (require) and as compiled TypeScript with the README's consumer
 * tsconfig, on Node.js 22 and 24 (the binaries scripts/setup-dev.sh puts in .cache/node) where the syntax allows.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlock } from '../docs/readme-blocks.js';
import { createLoopbackHost, NETNS_AVAILABLE } from '../harness/netns.js';
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
      /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/REVISION|dist\/src\/.+\.(js|d\.ts)|dist\/web\/[^/]+|config\/agent\.yaml|config\/examples\/[^/]+\.(yaml|service))$/;
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

  // `npx vault-multicast` and `npm link` in the clone run dist/src/cli/main.js itself: a fresh build must leave
  // it executable (npx's cache does not chmod it again after a rebuild: "Permission denied").
  it('builds the bin executable, for npx and npm link in the clone', () => {
    expect(statSync(resolve(ROOT, 'dist/src/cli/main.js')).mode & 0o111).toBe(0o111);
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

/**
 * The README's quick start in the form a Node version runs as plain JavaScript (`await using` from Node 24, the
 * `finally` form on 22), with a 3 s wait and its metrics as one JSON line; split into its import and the rest.
 */
function quickStartBody(lang: 'ts' | 'js'): { imports: string; body: string } {
  const code = readmeBlock('Library quick start', lang)
    .replace('setTimeout(resolve, 5000)', 'setTimeout(resolve, 3000)')
    .replace('console.log(listener.getMetrics());', 'console.log(JSON.stringify(listener.getMetrics()));');
  const imports = /^import \{([^}]+)\} from 'vault-multicast';\n/m.exec(code);
  if (!imports?.[1] || !code.includes('setTimeout(resolve, 3000)') || !code.includes('JSON.stringify'))
    throw new Error('README quick start changed shape');
  return { imports: imports[1], body: code.replace(imports[0], '') };
}

function expectDiscovered(out: string): void {
  expect(out).toContain('up My Service 127.0.0.1:8080');
  const metrics = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  expect(metrics.active_services).toBe(1);
}

const NODES = [22, 24].map((major) => ({ major, node: resolve(ROOT, `.cache/node/${major}/bin/node`) }));
for (const { major, node } of NODES) {
  const missing = !existsSync(node)
    ? `Node ${major} is not in .cache/node (bash scripts/setup-dev.sh installs it)`
    : !NETNS_AVAILABLE
      ? 'the quick start needs multicast on loopback inside a network namespace (run as root)'
      : '';
  if (missing)
    console.warn(`skipping the quick start from the installed package on Node ${major}: ${missing}`);

  describe.skipIf(Boolean(missing))(`the installed package on Node ${major}`, () => {
    // The quick start uses the default group and port: run it in a loopback namespace of its own, so that
    // another test doing the same (test/docs/readme-quickstart.test.ts) cannot be heard or hear it.
    let host: Awaited<ReturnType<typeof createLoopbackHost>> | undefined;
    beforeAll(async () => {
      host = await createLoopbackHost();
    });
    afterAll(() => host?.destroy());
    const inHost = (args: string[]) => {
      if (!host) throw new Error('no namespace');
      return runCollect('ip', ['netns', 'exec', host.ns, node, ...args], {
        cwd: consumer,
        env,
        timeoutMs: 60_000,
      });
    };
    const run = (file: string) => inHost([file]);

    // Plain JavaScript has `await using` from Node 24; on 22 the README gives the `finally` form.
    const jsForm = major < 24 ? 'js' : 'ts';

    it('runs the README quick start as .mjs', async () => {
      const { imports, body } = quickStartBody(jsForm);
      writeFileSync(join(consumer, 'quick.mjs'), `import {${imports}} from 'vault-multicast';\n${body}`);
      const res = await run('quick.mjs');
      expect(res.code, res.out).toBe(0);
      expectDiscovered(res.out);
    }, 90_000);

    it('requires the package from CommonJS and runs the README quick start in it', async () => {
      const { imports, body } = quickStartBody(jsForm);
      writeFileSync(
        join(consumer, 'quick.cjs'),
        `const {${imports}} = require('vault-multicast');\n(async () => {\n${body}})();\n`,
      );
      // The README's own CommonJS example listens for 5 s beside it and must see the quick start's service.
      writeFileSync(join(consumer, 'readme.cjs'), readmeBlock('Using the library in your project', 'js'));
      const [readme, res] = await Promise.all([run('readme.cjs'), run('quick.cjs')]);
      expect(res.code, res.out).toBe(0);
      expect(res.out).not.toContain('ERR_REQUIRE_ESM');
      expectDiscovered(res.out);
      expect(readme.code, readme.out).toBe(0);
      expect(readme.out).toContain('up My Service 127.0.0.1:8080');
      expectDiscovered(res.out);
    }, 90_000);

    it("compiles the quick start with the README's consumer tsconfig and runs it", async () => {
      const { imports, body } = quickStartBody('ts');
      const dir = join(consumer, `ts${major}`);
      await runCollect('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'quick.ts'), `import {${imports}} from 'vault-multicast';\n${body}`);
      const tsconfig = JSON.parse(readmeBlock('Using the library in your project', 'json')) as {
        compilerOptions: Record<string, unknown>;
      };
      // Only where @types/node lives differs from a real project: this one has no dev dependencies installed.
      tsconfig.compilerOptions.typeRoots = [resolve(ROOT, 'node_modules/@types')];
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['quick.ts'] }));
      const compiled = await runCollect(TSC, ['-p', 'tsconfig.json'], { cwd: dir, env });
      expect(compiled.out).toBe('');
      expect(compiled.code).toBe(0);
      const res = await runCollect(node, [join(dir, 'dist/quick.js')], {
        cwd: consumer,
        env,
        timeoutMs: 60_000,
      });
      expect(res.code, res.out).toBe(0);
      expectDiscovered(res.out);
    }, 120_000);
  });
}
