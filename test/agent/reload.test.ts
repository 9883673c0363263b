/**
 * Reload by difference against a real agent: unchanged listeners keep their very socket (same /proc/net/udp
 * inode), removed ones close, added ones open, a publisher's new message is applied in place; a bad file leaves
 * everything running and shows in the reload metrics; a burst of reload requests collapses.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent, udpSocketInodes } from './in-process.js';

const A = '224.1.1.31';
const B = '224.1.1.32';
const C = '224.1.1.33';

function config(port: number, opts: { b: boolean; c: boolean; version: string; q: boolean }): string {
  return `
http: {listen: "@HTTP@", enableReload: true}
listeners:
  - {name: a, group: ${A}, port: ${port}, interfaces: [127.0.0.1]}
${opts.b ? `  - {name: b, group: ${B}, port: ${port}, interfaces: [127.0.0.1]}` : ''}
${opts.c ? `  - {name: c, group: ${C}, port: ${port}, interfaces: [127.0.0.1]}` : ''}
publishers:
  - name: p
    group: ${A}
    port: ${port}
    interface: 127.0.0.1
    interval: 100ms
    message: {type: Reloaded, name: p, addr: "127.0.0.1:8080", version: "${opts.version}"}
${opts.q ? `  - {name: q, group: ${C}, port: ${port}, interface: 127.0.0.1, interval: 100ms, message: {type: Q, addr: "127.0.0.1:1"}}` : ''}
`;
}

function metric(body: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

describe.skipIf(!IN_TEST_NETNS)('reload by difference', () => {
  let t: TestAgent;
  let port: number;

  beforeAll(async () => {
    port = await freeUdpPort();
    t = await startTestAgent(config(port, { b: true, c: false, version: '1', q: false }));
    await waitFor(
      () => [...(t.agent.listenerEntry('a')?.listener.registry.services() ?? [])].length === 1,
      'p seen',
    );
  });
  afterAll(async () => t?.close());

  const applied = () => t.logs.filter((l) => l.includes('"msg":"configuration applied"')).length;

  test('unchanged listener keeps its socket, removed closes, added opens, message updated in place', async () => {
    const aBefore = await udpSocketInodes(A, port);
    expect(aBefore).toHaveLength(1);
    expect(await udpSocketInodes(B, port)).toHaveLength(1);
    const listenerA = t.agent.listenerEntry('a')?.listener;
    const publisherP = t.agent.publisherEntry('p')?.publisher;
    const packetsBefore = listenerA?.stats.packetsReceived ?? 0;

    await t.writeConfig(config(port, { b: false, c: true, version: '2', q: true }));
    const outcome = await t.agent.requestReload();
    expect(outcome).toEqual({ ok: true });

    expect(t.agent.listenerEntry('a')?.listener).toBe(listenerA);
    expect(await udpSocketInodes(A, port)).toEqual(aBefore);
    expect(t.agent.listenerEntry('b')).toBeUndefined();
    expect(await udpSocketInodes(B, port)).toEqual([]);
    expect(await udpSocketInodes(C, port)).toHaveLength(1);
    expect(t.agent.listenerEntry('c')?.listener.isRunning()).toBe(true);
    expect(t.agent.publisherEntry('p')?.publisher).toBe(publisherP);
    expect(publisherP?.isRunning()).toBe(true);
    // The counters of the kept listener carry on (no restart) and the new message arrives.
    await waitFor(() => {
      const rec = [...(listenerA?.registry.services() ?? [])][0];
      return rec?.version === '2';
    }, 'new message version');
    expect(listenerA?.stats.packetsReceived ?? 0).toBeGreaterThan(packetsBefore);
    await waitFor(
      () => [...(t.agent.listenerEntry('c')?.listener.registry.services() ?? [])].length === 1,
      'q on c',
    );
    expect(t.agent.reload).toMatchObject({ lastSuccess: true, successes: 1, failures: 0 });
  });

  test('a removed publisher says goodbye', async () => {
    const watcher = new VaultMultiListener({ group: C, port, interfaces: '127.0.0.1' });
    await watcher.start();
    const downs: string[] = [];
    watcher.on('down', (rec, reason) => downs.push(`${rec.type}:${reason}`));
    try {
      await waitFor(() => watcher.registry.size === 1, 'watcher sees q');
      await t.writeConfig(config(port, { b: false, c: true, version: '2', q: false }));
      expect(await t.agent.requestReload()).toEqual({ ok: true });
      expect(t.agent.publisherEntry('q')).toBeUndefined();
      await waitFor(() => downs.includes('Q:goodbye'), 'goodbye from q');
    } finally {
      await watcher.stop(0);
    }
  });

  test('an invalid file is rejected, the old configuration keeps running, the metrics say so', async () => {
    const aBefore = await udpSocketInodes(A, port);
    const listenerA = t.agent.listenerEntry('a')?.listener;
    await t.writeConfig('listeners:\n  - group: 999.1.1.1\n    port: nope\n');
    const outcome = await t.agent.requestReload();
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/agent\.yaml:2:/);
    expect(t.agent.reload.lastSuccess).toBe(false);
    expect(t.agent.reload.failures).toBe(1);
    expect(t.logs.some((l) => l.includes('reload failed; the previous configuration keeps running'))).toBe(
      true,
    );
    expect(t.agent.listenerEntry('a')?.listener).toBe(listenerA);
    expect(t.agent.listenerEntry('c')?.listener.isRunning()).toBe(true);
    expect(await udpSocketInodes(A, port)).toEqual(aBefore);
    const body = await (await fetch(`${t.url}/metrics`)).text();
    expect(metric(body, 'vault_multicast_config_last_reload_successful')).toBe(0);
    const packets = listenerA?.stats.packetsReceived ?? 0;
    await waitFor(() => (listenerA?.stats.packetsReceived ?? 0) > packets, 'still receiving');

    // POST /-/reload reports the failure too.
    const r = await fetch(`${t.url}/-/reload`, { method: 'POST' });
    expect(r.status).toBe(500);
    expect(((await r.json()) as { reason: string }).reason).toMatch(/port/);

    await t.writeConfig(config(port, { b: false, c: true, version: '2', q: false }));
    const ok = await fetch(`${t.url}/-/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    expect(t.agent.reload.lastSuccess).toBe(true);
    const after = await (await fetch(`${t.url}/metrics`)).text();
    expect(metric(after, 'vault_multicast_config_last_reload_successful')).toBe(1);
  });

  test('the event stream sends a fresh snapshot after a reload', async () => {
    const ac = new AbortController();
    const r = await fetch(`${t.url}/api/v1/events`, { signal: ac.signal });
    const reader = r.body?.getReader();
    if (!reader) throw new Error('no body');
    let text = '';
    const snapshots = () => text.split('event: snapshot\n').length - 1;
    try {
      await waitFor(async () => {
        text += new TextDecoder().decode((await reader.read()).value);
        return snapshots() === 1;
      }, 'first snapshot');
      expect(await t.agent.requestReload()).toEqual({ ok: true });
      await waitFor(async () => {
        text += new TextDecoder().decode((await reader.read()).value);
        return snapshots() === 2;
      }, 'snapshot after reload');
    } finally {
      ac.abort();
    }
  });

  test('ten reload requests at once collapse into at most two and change no socket', async () => {
    const inodes = [...(await udpSocketInodes(A, port)), ...(await udpSocketInodes(C, port))];
    const before = applied();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => t.agent.requestReload()));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(applied() - before).toBeGreaterThanOrEqual(1);
    expect(applied() - before).toBeLessThanOrEqual(2);
    expect([...(await udpSocketInodes(A, port)), ...(await udpSocketInodes(C, port))]).toEqual(inodes);
  });
});

describe.skipIf(!IN_TEST_NETNS)('reload moves the HTTP server', () => {
  test('a new listen address is bound before the old one closes; POST /-/reload gets its answer', async () => {
    const port = await freeUdpPort();
    const { freeTcpPort } = await import('../harness/netns.js');
    const next = `127.0.0.1:${await freeTcpPort()}`;
    const body = (listen: string) => `
http: {listen: "${listen}", enableReload: true}
listeners: [{name: a, group: 224.1.1.34, port: ${port}, interfaces: [127.0.0.1]}]
`;
    const t = await startTestAgent(body('@HTTP@'));
    try {
      const inodes = await udpSocketInodes('224.1.1.34', port);
      await t.writeConfig(body(next));
      const r = await fetch(`${t.url}/-/reload`, { method: 'POST' });
      expect(r.status).toBe(200);
      expect((await fetch(`http://${next}/-/ready`)).status).toBe(200);
      await waitFor(
        () =>
          fetch(`${t.url}/-/healthy`).then(
            () => false,
            () => true,
          ),
        'old address closed',
      );
      // The HTTP move did not touch the listener.
      expect(await udpSocketInodes('224.1.1.34', port)).toEqual(inodes);

      // An address that cannot be bound fails the reload and keeps the server where it is.
      const { createServer } = await import('node:net');
      const squatter = createServer();
      const taken = `127.0.0.1:${await freeTcpPort()}`;
      await new Promise<void>((res) =>
        squatter.listen(Number(taken.split(':')[1]), '127.0.0.1', () => res()),
      );
      try {
        await t.writeConfig(body(taken));
        const failed = await fetch(`http://${next}/-/reload`, { method: 'POST' });
        expect(failed.status).toBe(500);
        expect(((await failed.json()) as { reason: string }).reason).toMatch(/EADDRINUSE/);
        expect((await fetch(`http://${next}/-/ready`)).status).toBe(200);
      } finally {
        squatter.close();
      }
    } finally {
      await t.close();
    }
  });
});
