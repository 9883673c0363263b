/**
 * Performs the Dockerfile's build and run steps outside Docker, so a broken step fails CI without an engine:
 * each stage gets a directory standing in for its root filesystem; COPY copies from the build context
 * (respecting .dockerignore) or from an earlier stage; the npm RUN steps run as written (offline: the
 * machine's npm cache serves them); then the image's ENTRYPOINT and CMD start the agent
 * with the image's default configuration, as the image's user, in a loopback namespace, until /-/ready answers
 * and the HEALTHCHECK command passes.
 *
 * Steps that change the operating system (apt-get, useradd) can't run here; each is recognised by name and
 * checked for what the rest relies on (tini installed, uid 10001 created). An unrecognised RUN fails the test.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoopbackHost, NETNS_AVAILABLE, waitFor } from '../harness/netns.js';
import {
  dockerignore,
  execForm,
  type Instruction,
  ROOT,
  readDockerfile,
  stages,
  substitute,
} from './dockerfile.js';
import { cleanPath, NOT_CACHED_HINT, NPM_OFFLINE_ENV, runCollect } from './process.js';

const ignored = dockerignore(readFileSync(resolve(ROOT, '.dockerignore'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'vm-image-'));
chmodSync(work, 0o755);
// Two stages' node_modules: removing them takes a while on some filesystems.
afterAll(() => rm(work, { recursive: true, force: true }), 180_000);

interface StageFs {
  root: string;
  cwd: string;
  env: Record<string, string>;
  skipped: string[];
}

/** A path inside the image, as a path inside the stage's stand-in root. */
function inRoot(fs: StageFs, imagePath: string): string {
  return imagePath.startsWith('/') ? join(fs.root, imagePath) : join(fs.cwd, imagePath);
}

/** Copies a context path, leaving out what .dockerignore excludes. Returns the number of files copied. */
function copyFromContext(rel: string, dest: string): number {
  const src = resolve(ROOT, rel);
  if (!existsSync(src)) throw new Error(`COPY source ${rel} is not in the build context`);
  if (statSync(src).isDirectory()) {
    let n = 0;
    for (const entry of readdirSync(src)) n += copyFromContext(`${rel}/${entry}`, join(dest, entry));
    return n;
  }
  if (ignored(rel)) return 0;
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(src, dest);
  return 1;
}

function copy(fs: StageFs, args: string, done: Map<string, StageFs>): void {
  const words = args.split(/\s+/);
  const from = words[0]?.startsWith('--from=') ? words.shift()?.slice('--from='.length) : undefined;
  const dest = words.pop() ?? '';
  const intoDir = dest.endsWith('/') || words.length > 1;
  for (const source of words) {
    const target = inRoot(fs, intoDir ? join(dest, source.split('/').pop() ?? '') : dest);
    if (from !== undefined) {
      const stage = done.get(from);
      if (!stage) throw new Error(`COPY --from=${from}: no such earlier stage`);
      const src = inRoot(stage, source);
      if (!existsSync(src)) throw new Error(`COPY --from=${from} ${source}: not in that stage`);
      cpSync(src, target, { recursive: true });
    } else {
      const n = copyFromContext(source, target);
      if (n === 0) throw new Error(`COPY ${source}: .dockerignore leaves nothing to copy`);
    }
  }
}

async function sh(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  const res = await runCollect('sh', ['-c', command], {
    cwd,
    env: { PATH: cleanPath(), HOME: process.env.HOME ?? '/root', ...NPM_OFFLINE_ENV, ...env },
    timeoutMs: 180_000,
  });
  if (res.code !== 0) {
    const hint = res.out.includes('ENOTCACHED') ? `\n${NOT_CACHED_HINT}` : '';
    throw new Error(`RUN ${command} failed (${res.code}):\n${res.out}${hint}`);
  }
}

/**
 * One RUN step. npm commands run as written; `npm cache clean` is skipped because here it would empty the
 * machine's shared cache (in the image it only slims a layer). System steps are recorded for checking.
 */
async function runStep(fs: StageFs, command: string): Promise<void> {
  if (/^apt-get update && apt-get install /.test(command) || /^groupadd .* && useradd /.test(command)) {
    fs.skipped.push(command);
    return;
  }
  for (const part of command.split(/\s*&&\s*/)) {
    if (/^npm cache clean\b/.test(part)) continue;
    if (!/^npm (ci|run) /.test(part)) throw new Error(`unrecognised RUN step, teach this test: ${part}`);
    await sh(part, fs.cwd, fs.env);
  }
}

async function buildStage(name: string, instructions: Instruction[], done: Map<string, StageFs>) {
  const fs: StageFs = { root: join(work, name), cwd: join(work, name), env: {}, skipped: [] };
  const args: Record<string, string> = {};
  for (const ins of instructions) {
    const value = substitute(ins.args, { ...args, ...fs.env });
    switch (ins.keyword) {
      case 'ARG': {
        const [k, v] = value.split('=', 2);
        if (k) args[k] = v ?? '';
        break;
      }
      case 'ENV':
        for (const m of value.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) fs.env[m[1] ?? ''] = m[2] ?? '';
        break;
      case 'WORKDIR':
        fs.cwd = inRoot(fs, value);
        mkdirSync(fs.cwd, { recursive: true });
        break;
      case 'COPY':
        copy(fs, value, done);
        break;
      case 'RUN':
        await runStep(fs, value);
        break;
      default:
        break;
    }
  }
  done.set(name, fs);
  return fs;
}

function fetchInHost(url: string): string {
  return `fetch(${JSON.stringify(url)}).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.status === 200 ? 0 : 3); }, () => process.exit(4))`;
}

describe.skipIf(!NETNS_AVAILABLE)('the Dockerfile performed outside Docker', () => {
  it('builds, installs production dependencies only, and starts a ready agent as the image user', async () => {
    const all = stages(readDockerfile());
    const done = new Map<string, StageFs>();
    for (const stage of all) await buildStage(stage.name ?? `stage${done.size}`, stage.instructions, done);
    const runtime = done.get('runtime');
    if (!runtime) throw new Error('no runtime stage');
    chmodSync(runtime.root, 0o755);

    // The image holds the compiled agent, its page and production dependencies; no sources, no dev tools.
    expect(existsSync(inRoot(runtime, '/app/dist/src/cli/main.js'))).toBe(true);
    expect(existsSync(inRoot(runtime, '/app/dist/web/index.html'))).toBe(true);
    expect(existsSync(inRoot(runtime, '/app/node_modules/express/package.json'))).toBe(true);
    expect(existsSync(inRoot(runtime, '/app/node_modules/typescript'))).toBe(false);
    expect(existsSync(inRoot(runtime, '/app/src'))).toBe(false);
    expect(existsSync(inRoot(runtime, '/etc/vault-multicast/agent.yaml'))).toBe(true);

    // The system steps skipped here install tini (the ENTRYPOINT's first word) and create uid 10001 (USER).
    expect(runtime.skipped.join('\n')).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(runtime.skipped.join('\n')).toMatch(/useradd --system --uid 10001 /);

    const runtimeIns = all.find((s) => s.name === 'runtime')?.instructions ?? [];
    const entrypoint = execForm(runtimeIns.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '[]');
    const cmd = execForm(runtimeIns.find((i) => i.keyword === 'CMD')?.args ?? '[]');
    const user = runtimeIns.find((i) => i.keyword === 'USER')?.args ?? '';
    expect(entrypoint.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    // tini is not installed on the CI machine; the process it would supervise runs directly.
    const argv = [...entrypoint.slice(2), ...cmd].map((a) =>
      a.startsWith('/') && existsSync(inRoot(runtime, a)) ? inRoot(runtime, a) : a,
    );
    const [uid, gid] = user.split(':');
    const asUser =
      process.getuid?.() === 0 ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'] : [];
    const [program, ...rest] = [...asUser, ...argv.map((a) => (a === 'node' ? process.execPath : a))];

    const host = await createLoopbackHost();
    try {
      let log = '';
      const agent = host.spawn(program ?? '', rest, {
        cwd: runtime.cwd,
        env: { PATH: cleanPath(), ...runtime.env },
      });
      agent.stdout?.on('data', (b: Buffer) => {
        log += b.toString();
      });
      agent.stderr?.on('data', (b: Buffer) => {
        log += b.toString();
      });
      const exited = new Promise<number | null>((r) => agent.on('exit', (code) => r(code)));
      await waitFor(
        async () =>
          (
            await host.run(process.execPath, ['-e', fetchInHost('http://127.0.0.1:9477/-/ready')], {
              timeoutMs: 5000,
            })
          ).code === 0,
        `/-/ready to answer 200 (agent log: ${log})`,
        20_000,
      );
      // The page the image ships, served from dist/web.
      const page = await host.run(process.execPath, ['-e', fetchInHost('http://127.0.0.1:9477/')]);
      expect(page.stdout).toMatch(/<script[^>]+app\.js/);

      // The HEALTHCHECK command, as written, with the image's environment.
      const hc = runtimeIns.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
      const hcCommand = execForm(/\bCMD\s+(\[.*\])$/.exec(hc)?.[1] ?? '[]');
      const healthEnv = Object.entries(runtime.env).map(([k, v]) => `${k}=${v}`);
      const health = await host.run('env', [
        ...healthEnv,
        ...hcCommand.map((a) => (a === 'node' ? process.execPath : a)),
      ]);
      expect(health.code, health.stderr).toBe(0);

      // SIGTERM (what tini forwards from `docker stop`) ends the agent cleanly.
      agent.kill('SIGTERM');
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))])).toBe(
        0,
      );
    } finally {
      await host.destroy();
    }
  }, 300_000);
});
