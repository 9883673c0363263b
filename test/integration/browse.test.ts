/**
 * `vault-multicast browse` as scripts and people use it, with real publishers inside the test namespace
 * (loopback only): `--first` in a pipe, `--pick` on a pseudo-terminal, `--terminate`, `--json` updates only
 * on change, the message when nothing was heard, and a table that fits the terminal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/args.js';
import { renderTable } from '../../src/cli/browse-table.js';
import type { ServiceRecord } from '../../src/discovery/types.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { cli, CLI_MAIN as main, run } from './helpers/run-cli.js';

const ptyRun = fileURLToPath(new URL('./helpers/pty-run.py', import.meta.url));

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  children.clear();
});

/** A `publish` process announcing `message` every 0.2 s until the test ends. */
function publish(common: string[], message: Record<string, unknown>): void {
  const child = spawn(
    process.execPath,
    [main, 'publish', ...common, '--interval', '0.2', '--quiet', '--message', JSON.stringify(message)],
    { stdio: 'ignore' },
  );
  children.add(child);
}

async function endpoint(group: string): Promise<string[]> {
  return ['--group', group, '--port', String(await freeUdpPort()), '--interface', '127.0.0.1'];
}

interface PtyResult {
  code: number | null;
  stdout: string;
  screen: string;
  failed: unknown;
}

async function onTerminal(steps: ({ wait: string } | { send: string })[], args: string[]) {
  const r = await run('python3', [
    ptyRun,
    '100',
    '30',
    JSON.stringify(steps),
    '--',
    process.execPath,
    main,
    ...args,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PtyResult;
}

const DOWN = '\x1b[B';
const UP = '\x1b[A';

describe.skipIf(!IN_TEST_NETNS || !existsSync(main))('browse for scripts and people', () => {
  it('--first in a pipe: addr=$(vault-multicast browse --type VaultLibrary --first | jq -r .addr)', async () => {
    const common = await endpoint('239.32.0.1');
    publish(common, { type: 'Other', name: 'noise', addr: '192.0.2.1:1' });
    publish(common, { type: 'VaultLibrary', name: 'lib', addr: ['192.0.2.7', 8200] });
    const script = `addr=$("$0" "$1" browse ${common.join(' ')} --type VaultLibrary --first --timeout 20 | jq -r .addr) && echo "addr=$addr"`;
    const r = await run('sh', ['-c', script, process.execPath, main]);
    // The original's [host, port] shape comes out as host:port: the normalised field, not the raw one.
    expect(r).toMatchObject({ code: 0, stdout: 'addr=192.0.2.7:8200\n' });

    const json = await cli(['browse', ...common, '--type', 'VaultLibrary', '--first', '--timeout', '20']);
    const found = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(found).toMatchObject({ type: 'VaultLibrary', name: 'lib', addr: '192.0.2.7:8200', state: 'up' });
    expect(found.data).toMatchObject({ addr: ['192.0.2.7', 8200] });
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--first --timeout exits 1 and says what it heard: nothing, or only other types', async () => {
    const quiet = await endpoint('239.32.0.2');
    const nothing = await cli(['browse', ...quiet, '--type', 'VaultLibrary', '--first', '--timeout', '1']);
    expect(nothing.code).toBe(1);
    expect(nothing.stdout).toBe('');
    expect(nothing.stderr).toMatch(
      /^error: no service of type ~ 'VaultLibrary': heard nothing on 239\.32\.0\.2:\d+ via 127\.0\.0\.1 in 1s\n$/,
    );

    const busy = await endpoint('239.32.0.3');
    publish(busy, { type: 'Other', addr: '192.0.2.1:1' });
    // The publisher is announcing before the timed run starts (a busy machine may start it slowly).
    expect((await cli(['browse', ...busy, '--first', '--timeout', '20'])).code).toBe(0);
    const other = await cli(['browse', ...busy, '--type', 'VaultLibrary', '--first', '--timeout', '2']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/heard \d+ announcements on .* in 2s, none of type ~ 'VaultLibrary'\n$/);
  });

  it('browse --timeout with nothing on the group prints "heard nothing on G:P via IF in Ns"', async () => {
    const quiet = await endpoint('239.32.0.4');
    const r = await cli(['browse', ...quiet, '--timeout', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^heard nothing on 239\.32\.0\.4:\d+ via 127\.0\.0\.1 in 1s\n$/);
  });

  it('--pick on a terminal: type to filter, arrows, Enter prints the choice as JSON on stdout', async () => {
    const common = await endpoint('239.32.0.5');
    publish(common, { type: 'VaultLibrary', name: 'lib-a', addr: '192.0.2.7:8200' });
    publish(common, { type: 'VaultLibrary', name: 'lib-b', addr: '192.0.2.8:8200', shelf: 'b' });
    publish(common, { type: 'Other', name: 'noise', addr: '192.0.2.9:9' });
    const r = await onTerminal(
      [
        { wait: 'noise' },
        { wait: 'lib-b' },
        { send: 'lib' },
        { wait: '2 of 3' },
        { send: DOWN },
        { send: DOWN },
        { send: UP },
        { send: DOWN },
        { send: '\r' },
      ],
      ['browse', ...common, '--pick', '--timeout', '60'],
    );
    expect(r.failed).toBeNull();
    expect(r.code).toBe(0);
    const chosen = JSON.parse(r.stdout) as { name: string; data: { shelf: string } };
    expect(chosen).toMatchObject({ name: 'lib-b', addr: '192.0.2.8:8200', data: { shelf: 'b' } });
    // The list was drawn on the terminal, on the alternate screen, which is left again at the end.
    expect(r.screen).toContain('\x1b[?1049h');
    expect(r.screen.trimEnd().endsWith('\x1b[?1049l')).toBe(true);
  });

  it('--pick: Esc exits 1 and prints nothing', async () => {
    const common = await endpoint('239.32.0.6');
    publish(common, { type: 'VaultLibrary', name: 'lib-a', addr: '192.0.2.7:8200' });
    const r = await onTerminal(
      [{ wait: 'lib-a' }, { send: '\x1b' }],
      ['browse', ...common, '--pick', '--timeout', '60'],
    );
    expect(r.failed).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('--pick refuses without a terminal and points to --first', async () => {
    const r = await cli(['browse', '--pick', '--port', String(await freeUdpPort())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pick needs a terminal .* use --first/);
  });

  it('--terminate prints the list once it has settled and exits', async () => {
    const common = await endpoint('239.32.0.7');
    publish(common, { type: 'VaultLibrary', name: 'lib-a', addr: '192.0.2.7:8200', version: '2' });
    publish(common, { type: 'Other', name: 'noise', addr: '192.0.2.9:9' });
    for (const type of ['VaultLibrary', 'Other'])
      expect((await cli(['browse', ...common, '--type', type, '--first', '--timeout', '20'])).code).toBe(0);
    const started = performance.now();
    const r = await cli(['browse', ...common, '--terminate', '--settle', '1.5', '--timeout', '25']);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STATE +TYPE +NAME +ADDRESS +VERSION +SOURCE +SEEN +PKTS$/);
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 3))).toEqual([
      ['up', 'Other', 'noise'],
      ['up', 'VaultLibrary', 'lib-a'],
    ]);

    const json = await cli(['browse', ...common, '--terminate', '--json', '--settle', '1.5']);
    const names = json.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { name: string }).name)
      .sort();
    expect(names).toEqual(['lib-a', 'noise']);
  });

  it('--json prints an update only when a field changed; --all prints every announcement', async () => {
    const common = await endpoint('239.32.0.8');
    // Runs until SIGTERM, so that a slow start on a busy machine costs time, not announcements.
    const watch = (extra: string[]) => {
      const child = spawn(process.execPath, [main, 'browse', ...common, '--json', ...extra]);
      children.add(child);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const closed = new Promise((r) => child.once('close', r));
      const events = () =>
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; version: string });
      const stop = async () => {
        child.kill('SIGTERM');
        await closed;
      };
      return { events, stop };
    };
    const changes = watch([]);
    const everything = watch(['--all']);
    const send = (version: string) =>
      cli([
        'publish',
        ...common,
        '--interval',
        '0.1',
        '--count',
        '3',
        '--quiet',
        '--no-goodbye',
        '--message',
        JSON.stringify({ type: 'svc', name: 'one', addr: '192.0.2.9:9', version }),
      ]);
    // Version 1 until both have seen the service, then version 2 once.
    const heard = (w: typeof changes) => w.events().some((e) => e.event === 'up');
    await waitFor(
      async () => {
        await send('1');
        return heard(changes) && heard(everything);
      },
      'both to hear it',
      30_000,
    );
    await send('2');
    const has2 = (w: typeof changes) => w.events().filter((e) => e.version === '2').length;
    await waitFor(() => has2(changes) >= 1 && has2(everything) >= 3, 'version 2', 10_000);
    await changes.stop();
    await everything.stop();
    expect(changes.events().map((e) => `${e.event} ${e.version}`)).toEqual(['up 1', 'update 2']);
    const all = everything.events();
    expect(all.filter((e) => e.event === 'update' && e.version === '2')).toHaveLength(3);
    expect(all.filter((e) => e.event === 'update').length).toBeGreaterThanOrEqual(4);
  });
});

describe('browse output', () => {
  const now = Date.now();
  const record = (over: Partial<ServiceRecord>): ServiceRecord => ({
    key: `t\u0000${over.addr ?? '192.0.2.1:1'}`,
    type: 'VaultLibrary',
    name: 'library-on-the-third-floor',
    addr: '192.0.2.1:8200',
    host: '192.0.2.1',
    port: 8200,
    version: '1.17.2',
    metricsPort: undefined,
    state: 'up',
    source: '192.0.2.1',
    firstSeenWallMs: now,
    lastSeenWallMs: now - 3000,
    lastSeenMonoMs: 0,
    expiresAtMonoMs: 0,
    forgetAtMonoMs: undefined,
    ttlMs: 30_000,
    packets: 5,
    lost: 0,
    lastSeq: undefined,
    ageSeconds: undefined,
    data: {},
    ...over,
  });

  it('fits the terminal: at 80 columns it shortens and drops the least useful columns, and never wraps', () => {
    const recs = [record({}), record({ addr: '[2001:db8:20::2]:9092', name: 'b'.repeat(60) })];
    const at80 = renderTable(recs, now, `header ${'x'.repeat(100)}`, 80)
      .trimEnd()
      .split('\n');
    for (const line of at80) expect(line.length).toBeLessThanOrEqual(80);
    expect(at80[2]).toMatch(/^STATE +TYPE +NAME +ADDRESS +VERSION +SEEN$/);
    expect(at80).toContainEqual(
      expect.stringMatching(/^up +VaultLibrary +library-on-the-… +192\.0\.2\.1:8200 +1\.17\.2 +3s$/),
    );
    expect(at80.join('\n')).toContain('[2001:db8:20::2]:9092');

    const at50 = renderTable(recs, now, 'header', 50).trimEnd().split('\n');
    for (const line of at50) expect(line.length).toBeLessThanOrEqual(50);
    expect(at50[2]).toMatch(/^STATE +TYPE +NAME +ADDRESS/);

    const wide = renderTable(recs, now, 'header', 200).split('\n');
    expect(wide[2]).toMatch(/^STATE +TYPE +NAME +ADDRESS +VERSION +SOURCE +SEEN +PKTS$/);
  });

  it('escapes control characters from the network so an announcement cannot rewrite the terminal', () => {
    const rec = record({ type: 'evil\u001b[2J', name: 'n\u009b31m', version: '1\u202e' });
    const text = renderTable([rec], now, 'header');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
    expect(text).not.toMatch(/[\u001b\u009b\u202e]/);
    expect(text).toContain('evil\\u001b[2J');
    expect(text).toMatch(/^up {5}/m);
    expect(text).toMatch(/3s +5\n$/);
  });

  it('escapes C0 and C1 controls, bidi marks and overrides, and backslashes, visibly', () => {
    expect(printable('a\u001b[2Jb\u0007\u0000')).toBe('a\\u001b[2Jb\\u0007\\u0000');
    expect(printable('x\u009b31m\u0085')).toBe('x\\u009b31m\\u0085');
    expect(printable('gpj.\u202eexe \u2066i\u2069 \u200f')).toBe('gpj.\\u202eexe \\u2066i\\u2069 \\u200f');
    // A sender cannot fake an escape: a backslash is escaped too, so `\u001b` typed as text stays apart.
    expect(printable('C:\\temp \\u001b')).toBe('C:\\\\temp \\\\u001b');
    expect(printable('naïve café 東京')).toBe('naïve café 東京');
  });
});
