/**
 * The `publish` and `browse` commands of the built CLI, run as a user runs them, inside the test namespace
 * (loopback only): announcements counted and stopped with a goodbye, JSON events, clear errors and exit codes.
 */
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { cli, CLI_MAIN as main } from './helpers/run-cli.js';

describe.skipIf(!IN_TEST_NETNS || !existsSync(main))('vault-multicast CLI', () => {
  it('browse --json --all reports up, every update and the goodbye of a publish --count run', async () => {
    const port = String(await freeUdpPort());
    const common = ['--group', '239.30.0.1', '--port', port, '--interface', '127.0.0.1'];
    const browsing = cli(['browse', ...common, '--json', '--all', '--timeout', '3']);
    await new Promise((r) => setTimeout(r, 700));
    const message = JSON.stringify({ type: 'cli', name: 'one', addr: '192.0.2.9:9', version: '9' });
    const pub = await cli(['publish', ...common, '--interval', '0.1', '--count', '3', '--message', message]);
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout.match(/^announced seq=\d+ on 1 interface$/gm)).toHaveLength(3);
    expect(pub.stdout).toMatch(/stopped: 4 datagrams sent, 0 failed/);
    const browse = await browsing;
    expect(browse.code, browse.stderr).toBe(0);
    const events = browse.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { event: string; reason?: string; name: string; addr: string; state: string },
      );
    expect(events.map((e) => e.event)).toEqual(['up', 'update', 'update', 'down']);
    expect(events[0]).toMatchObject({ name: 'one', addr: '192.0.2.9:9', state: 'up' });
    expect(events[3]).toMatchObject({ reason: 'goodbye', state: 'gone' });
  });

  it('browse without --json prints + and - lines; --type filters', async () => {
    const port = String(await freeUdpPort());
    const common = ['--group', '239.30.0.2', '--port', port, '--interface', '127.0.0.1'];
    const browsing = cli(['browse', ...common, '--type', 'want', '--timeout', '2.5']);
    await new Promise((r) => setTimeout(r, 700));
    await Promise.all([
      cli([
        'publish',
        ...common,
        '--interval',
        '0.1',
        '--count',
        '2',
        '--quiet',
        '--message',
        '{"type":"wanted","name":"w","addr":"192.0.2.1:1"}',
      ]),
      cli([
        'publish',
        ...common,
        '--interval',
        '0.1',
        '--count',
        '2',
        '--quiet',
        '--message',
        '{"type":"other","name":"o","addr":"192.0.2.2:2"}',
      ]),
    ]);
    const browse = await browsing;
    expect(browse.code).toBe(0);
    expect(browse.stdout).toBe(
      '+ wanted w 192.0.2.1:1 - from 127.0.0.1\n- wanted w 192.0.2.1:1 - from 127.0.0.1 (goodbye)\n',
    );
  });

  it('exit codes: 2 for bad usage, 1 for a port in use or an interface that does not exist', async () => {
    const bad = await cli(['publish', '--ttl', '300']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ttl must be an integer between 0 and 255, got '300'/);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    const holder = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => holder.bind(0, '0.0.0.0', () => r()));
    try {
      const inUse = await cli([
        'browse',
        '--group',
        '239.30.0.3',
        '--port',
        String(holder.address().port),
        '--timeout',
        '1',
      ]);
      expect(inUse.code).toBe(1);
      expect(inUse.stderr).toMatch(/cannot bind 239\.30\.0\.3:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
    const noIf = await cli([
      'browse',
      '--interface',
      'nosuch0',
      '--port',
      String(await freeUdpPort()),
      '--timeout',
      '1',
    ]);
    expect(noIf.code).toBe(1);
    expect(noIf.stderr).toMatch(/cannot join 224\.1\.1\.1 on 'nosuch0': no such interface/);
  });

  it('publish refuses a message listeners would drop, unless --raw, and suggests a mistyped flag', async () => {
    const port = String(await freeUdpPort());
    const common = ['--group', '239.30.0.4', '--port', port, '--interface', '127.0.0.1', '--count', '1'];
    const notJson = await cli(['publish', ...common, '--message', '{bad']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(
      /^error: --message is not JSON \(.+\); fix it, or add --raw to send it as is\n/,
    );
    expect(notJson.stdout).toBe('');
    const noAddr = await cli(['publish', ...common, '--message', '{"type":"web","name":"a"}']);
    expect(noAddr.code).toBe(2);
    expect(noAddr.stderr).toMatch(/^error: --message lacks addr \(or ip\/port\): listeners would drop it/);
    const noType = await cli(['publish', ...common, '--message', '{"ip":"192.0.2.1","port":80}']);
    expect(noType.stderr).toMatch(/^error: --message lacks type:/);
    // What the decoder accepts passes: type with addr in any shape, or ip/port; plain text is sent as is.
    for (const ok of [
      '{"type":"web","addr":["192.0.2.1",80]}',
      '{"type":"web","ip":"192.0.2.1","port":80}',
      'hello',
    ]) {
      const sent = await cli(['publish', ...common, '--message', ok]);
      expect(sent.code, `${ok}: ${sent.stderr}`).toBe(0);
    }
    const raw = await cli(['publish', ...common, '--message', '{bad', '--raw']);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(/^announced seq=0 on 1 interface$/m);

    const typo = await cli(['publish', '--intreface', '127.0.0.1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^error: unknown option --intreface; did you mean --interface\?\n/);
    const far = await cli(['publish', '--frobnicate']);
    expect(far.stderr).toMatch(/^error: unknown option --frobnicate\n/);
  }, 60_000);

  it('publish fails at once when no asked-for interface exists, instead of announcing on none', async () => {
    const r = await cli(['publish', '--interface', 'eth9', '--port', String(await freeUdpPort())]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: no interface to send on: 'eth9' \(ENODEV\); this host has lo/m);
  });
});
