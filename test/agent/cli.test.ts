/**
 * `vault-multicast agent --check` through the built CLI: exit 0 with a summary for a valid file (the shipped
 * default included), exit 1 with the file:line:col report for an invalid one, 2 for bad usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI_MAIN, REPO_ROOT } from './spawn-agent.js';

const dir = mkdtempSync(join(tmpdir(), 'vm-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_MAIN, 'agent', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    cwd: REPO_ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('agent --check', () => {
  test('a valid file: exit 0 and the summary', () => {
    const path = file(
      'good.yaml',
      `listeners:
  - {group: 224.1.1.1, port: 5004, interfaces: [127.0.0.1]}
  - {group: 224.1.1.2, port: 5004, interfaces: [127.0.0.1]}
publishers:
  - {group: 224.1.1.1, port: 5004, interface: 127.0.0.1, message: {type: T, addr: "127.0.0.1:1"}}
`,
    );
    const r = cli('--config', path, '--check');
    expect(r).toEqual({ code: 0, stdout: 'config OK: 2 listeners, 1 publishers\n', stderr: '' });
  });

  test('the shipped config/agent.yaml passes', () => {
    const r = cli('--config', join(REPO_ROOT, 'config', 'agent.yaml'), '--check');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^config OK: \d+ listeners, \d+ publishers\n$/);
  });

  test('an invalid file: exit 1 and every problem with its line', () => {
    const path = file('bad.yaml', 'listeners:\n  - group: 10.0.0.1\n    port: 70000\n');
    const r = cli('--config', path, '--check');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${path}:2:`);
    expect(r.stderr).toContain(`${path}:3:`);
    expect(r.stderr).toContain('listeners[0].port');
  });

  test('a missing file: exit 1', () => {
    const r = cli('--config', join(dir, 'nope.yaml'), '--check');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.yaml');
  });

  test('bad usage: exit 2 with the usage text', () => {
    expect(cli('--check').code).toBe(2);
    const unknown = cli('--config', 'x', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: vault-multicast agent');
    expect(cli('--config', 'x', '--log-level', 'loud').code).toBe(2);
  });

  test('an invalid file does not start the agent: exit 1 with the plain report --check prints', () => {
    const path = file(
      'bad2.yaml',
      'http: {listen: nowhere}\nlisteners:\n  - {group: 224.1.1.1, port: 99999}\n',
    );
    const started = cli('--config', path);
    const checked = cli('--config', path, '--check');
    expect(started.code).toBe(1);
    expect(started.stdout).toBe('');
    expect(started.stderr).toBe(`${checked.stderr}configuration invalid; not starting\n`);
    // Several problems, one per line with file:line:col: a report, not one JSON line with \n escapes.
    expect(checked.stderr.split('\n').filter((l) => l.startsWith(`${path}:`)).length).toBeGreaterThanOrEqual(
      2,
    );
    expect(started.stderr).not.toContain('\\n');
  });

  test('a mistyped option gets the nearest one suggested', () => {
    const r = cli('--confg', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown option --confg; did you mean --config\?\n/);
  });
});
