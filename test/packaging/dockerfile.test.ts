/**
 * The Dockerfile, linted by dockerfile-utils (the parser behind the VS Code Docker extension) and checked for
 * what the image promises operators: pinned slim Node 24 LTS base, multi-stage with a production-only install,
 * a non-root user, tini as PID 1, a curl-free HEALTHCHECK on /-/healthy, OCI labels, the default config path.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import {
  dockerignore,
  execForm,
  globalArgs,
  parseDockerfile,
  ROOT,
  readDockerfile,
  stages,
} from './dockerfile.js';

const text = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
const all = readDockerfile();
const [build, runtime] = stages(all);

function only(keyword: string) {
  return runtime?.instructions.filter((i) => i.keyword === keyword) ?? [];
}

describe('Dockerfile', () => {
  it('lints clean with dockerfile-utils', () => {
    const problems = validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('lint catches a broken Dockerfile (the linter is live)', () => {
    const broken = text.replace('WORKDIR /app', 'WORKDIR app').replace('USER 10001:10001', 'USER');
    // Severity 1 is the Language Server Protocol's Error.
    const errors = validate(broken).filter((d) => d.severity === 1);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('builds from a pinned slim Node 24 LTS base in two stages', () => {
    expect(stages(all).map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of stages(all)) expect(s.from).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
    expect(globalArgs(all).NODE_IMAGE).toBe(build?.from);
    // The label names the same base the stages use.
    expect(text).toContain(`org.opencontainers.image.base.name="docker.io/library/${build?.from}"`);
  });

  it('compiles with dev dependencies and installs only production dependencies in the image', () => {
    const buildRuns = build?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? [];
    expect(buildRuns).toContain('npm ci --no-audit --no-fund');
    expect(buildRuns).toContain('npm run build');
    const runtimeRuns = only('RUN').map((i) => i.args);
    expect(runtimeRuns.some((r) => r.startsWith('npm ci --omit=dev'))).toBe(true);
    // Only the built output crosses from the build stage: no sources, no dev dependencies.
    const fromBuild = only('COPY').filter((i) => i.args.startsWith('--from=build'));
    expect(fromBuild.map((i) => i.args.split(/\s+/)[1])).toEqual(['/src/dist/src', '/src/dist/web']);
  });

  it('runs as a non-root numeric user, the chart uid', () => {
    const users = only('USER');
    expect(users.map((u) => u.args)).toEqual(['10001:10001']);
    const userLine = users[0]?.line ?? 0;
    // Nothing after USER runs as root again, and every RUN happens before it.
    expect(only('RUN').every((r) => r.line < userLine)).toBe(true);
  });

  it('starts the agent under tini with the default config at /etc/vault-multicast/agent.yaml', () => {
    expect(only('RUN').some((r) => /apt-get install -y --no-install-recommends tini\b/.test(r.args))).toBe(
      true,
    );
    const [entrypoint] = only('ENTRYPOINT');
    const [cmd] = only('CMD');
    expect(execForm(entrypoint?.args ?? '')).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '--max-semi-space-size=16',
      '/app/dist/src/cli/main.js',
    ]);
    expect(execForm(cmd?.args ?? '')).toEqual(['agent', '--config', '/etc/vault-multicast/agent.yaml']);
    expect(only('COPY').map((c) => c.args)).toContain('config/agent.yaml /etc/vault-multicast/agent.yaml');
  });

  it('health-checks /-/healthy with node fetch, no curl', () => {
    const [hc] = only('HEALTHCHECK');
    const m = /^(.*?)\bCMD\s+(\[.*\])$/.exec(hc?.args ?? '');
    expect(m).not.toBeNull();
    const command = execForm(m?.[2] ?? '[]');
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('fetch(process.env.VM_HEALTHCHECK_URL)');
    expect(
      only('ENV')
        .map((e) => e.args)
        .join(' '),
    ).toContain('VM_HEALTHCHECK_URL=http://127.0.0.1:9477/-/healthy');
    for (const ins of all) expect(ins.args, `line ${ins.line}`).not.toMatch(/\bcurl\b|\bwget\b/);
  });

  it('labels the image with the package version', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(only('ARG').map((a) => a.args)).toContain(`VERSION=${pkg.version}`);
    expect(text).toMatch(/org\.opencontainers\.image\.version="\$\{VERSION\}"/);
  });

  it('carries the OCI labels', () => {
    const labels = only('LABEL')
      .map((l) => l.args)
      .join(' ');
    for (const key of ['title', 'description', 'source', 'licenses', 'version', 'documentation']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain('org.opencontainers.image.licenses="Apache-2.0"');
  });

  it('keeps the build context to what the Dockerfile copies', () => {
    const ignored = dockerignore(readFileSync(resolve(ROOT, '.dockerignore'), 'utf8'));
    for (const p of [
      'package.json',
      'package-lock.json',
      'src/index.ts',
      'src/web/index.html',
      'config/agent.yaml',
    ]) {
      expect(ignored(p), p).toBe(false);
    }
    for (const p of [
      'node_modules/yaml/package.json',
      'dist/src/index.js',
      '.git/HEAD',
      'test/unit/x.test.ts',
    ]) {
      expect(ignored(p), p).toBe(true);
    }
    expect(ignored('config/examples/secrets/token')).toBe(true);
  });

  it('parses continuation lines into one instruction', () => {
    const parsed = parseDockerfile('FROM a AS b\nRUN one \\\n  # note\n  && two\n');
    expect(parsed.map((i) => [i.keyword, i.args])).toEqual([
      ['FROM', 'a AS b'],
      ['RUN', 'one && two'],
    ]);
  });
});
