/**
 * `listener.find()` and `listener.services()` on real sockets in the test namespace (loopback only): the
 * first match, a timeout, an abort, and nothing left behind (handlers, timers, sockets) once they settle.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMulticastError } from '../../src/discovery/errors.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import type { ServiceEvent } from '../../src/discovery/service-events.js';
import { REPO_ROOT } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const LO = '127.0.0.1';
const LIBRARY = join(REPO_ROOT, 'dist', 'src', 'index.js');

// An application that waits with a long timeout, gives up through its AbortController, stops the listener
// and then simply returns: it must exit by itself, long before the abandoned timeout would have fired.
const ABANDONING_APP = `
const [library, group, port] = process.argv.slice(1);
const { VaultMultiListener } = await import(library);
const listener = new VaultMultiListener({ group, port: Number(port), interfaces: '127.0.0.1' });
await listener.start();
const ac = new AbortController();
setTimeout(() => ac.abort(), 200);
await listener.find('Nothing', { timeout: 600, signal: ac.signal }).catch((e) => console.log('find', e.name));
const again = new AbortController();
setTimeout(() => again.abort(), 200);
try {
  for await (const _ of listener.services({ signal: again.signal }));
} catch (e) {
  console.log('services', e.name);
}
await listener.stop();
console.log('stopped');
`;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(group: string) {
  const port = await freeUdpPort();
  const listener = new VaultMultiListener({ group, port, interfaces: LO });
  cleanups.push(() => listener.stop());
  await listener.start();
  const publish = async (message: Record<string, unknown>, interval = 0.1) => {
    const p = new VaultMultiPublisher({ group, port, interfaces: LO, interval, message });
    cleanups.push(() => p.stop());
    await p.start();
    return p;
  };
  return { listener, publish };
}

/** UDP sockets the process holds now. */
function sockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}

function handlers(listener: VaultMultiListener): number {
  return ['up', 'update', 'down', 'removed'].reduce(
    (n, e) => n + listener.listenerCount(e as 'up' | 'update' | 'down' | 'removed'),
    0,
  );
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe.skipIf(!IN_TEST_NETNS)('find() and services()', () => {
  it('find() resolves to the first service of the type, a copy with the announcement, and cleans up', async () => {
    const { listener, publish } = await setup('239.31.0.1');
    await publish({ type: 'OtherThing', name: 'noise', addr: '192.0.2.1:1' });
    const finding = listener.find('VaultLibrary', { timeout: 30 });
    await waitFor(() => listener.registry.size > 0, 'the other service to be heard', 5000);
    await publish({ type: 'VaultLibrary', name: 'lib', addr: '192.0.2.7:8200', shelf: 3 });
    const found = await finding;
    expect(found).toMatchObject({ type: 'VaultLibrary', name: 'lib', addr: '192.0.2.7:8200', state: 'up' });
    expect(found.data).toMatchObject({ type: 'VaultLibrary', name: 'lib', addr: '192.0.2.7:8200', shelf: 3 });
    // A copy: later announcements do not change what the caller holds.
    const packets = found.packets;
    await waitFor(
      () => (listener.registry.get(found.key)?.packets ?? 0) > packets + 2,
      'more announcements',
      5000,
    );
    expect(found.packets).toBe(packets);
    expect(handlers(listener)).toBe(0);

    // Already known: at once, and a predicate works as well as a type substring.
    const again = await listener.find((s) => s.data.shelf === 3, { timeout: 0 });
    expect(again.name).toBe('lib');
  });

  it('find() rejects with ETIMEDOUT naming the group after the timeout, leaving no timer or handler', async () => {
    const { listener, publish } = await setup('239.31.0.2');
    await publish({ type: 'OtherThing', addr: '192.0.2.1:1' });
    const started = performance.now();
    const err = await rejection(listener.find('VaultLibrary', { timeout: 0.5 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(err).toBeInstanceOf(VaultMulticastError);
    expect((err as VaultMulticastError).code).toBe('ETIMEDOUT');
    expect((err as Error).message).toMatch(
      /^no service of type ~ 'VaultLibrary' announced on 239\.31\.0\.2:\d+ within 0\.5 s$/,
    );
    expect(handlers(listener)).toBe(0);
    expect(((await rejection(listener.find('x', { timeout: -1 }))) as VaultMulticastError).code).toBe(
      'EINVAL',
    );
  });

  it('find() rejects with the abort reason, at once when already aborted, and cleans up', async () => {
    const { listener } = await setup('239.31.0.3');
    const ac = new AbortController();
    const finding = listener.find('VaultLibrary', { timeout: 60, signal: ac.signal });
    expect(handlers(listener)).toBe(2);
    setTimeout(() => ac.abort(), 100);
    const err = await rejection(finding);
    expect((err as DOMException).name).toBe('AbortError');
    expect(handlers(listener)).toBe(0);
    const reason = new Error('user closed the dialog');
    expect(await rejection(listener.find('x', { signal: AbortSignal.abort(reason) }))).toBe(reason);
  });

  it('services() yields known services, then up, update and down events of the filter only', async () => {
    const { listener, publish } = await setup('239.31.0.4');
    await publish({ type: 'VaultLibrary', name: 'first', addr: '192.0.2.1:1' });
    await waitFor(() => listener.registry.size === 1, 'the first service', 5000);
    await publish({ type: 'OtherThing', name: 'noise', addr: '192.0.2.9:9' });
    const seen: ServiceEvent[] = [];
    let second: VaultMultiPublisher | undefined;
    for await (const ev of listener.services({ filter: 'Vault' })) {
      seen.push(ev);
      if (ev.event === 'up' && ev.service.name === 'first') {
        second = await publish({ type: 'VaultLibrary', name: 'second', addr: '192.0.2.2:2' });
      }
      // The second publisher's stop() says goodbye: its service goes down at once.
      if (ev.event === 'update' && ev.service.name === 'second' && second?.isRunning()) void second.stop();
      if (ev.event === 'down') break;
    }
    expect(seen[0]).toMatchObject({ event: 'up', service: { name: 'first', state: 'up' } });
    expect(seen.find((e) => e.event === 'up' && e.service.name === 'second')).toBeDefined();
    expect(seen.at(-1)).toMatchObject({ event: 'down', reason: 'goodbye', service: { name: 'second' } });
    expect(seen.every((e) => e.service.type === 'VaultLibrary')).toBe(true);
    // Leaving the loop removed the handlers.
    expect(handlers(listener)).toBe(0);
  });

  it('services() ends with the abort reason and removes its handlers; stop() then leaves no socket', async () => {
    const { listener, publish } = await setup('239.31.0.5');
    await publish({ type: 'VaultLibrary', addr: '192.0.2.1:1' }, 0.05);
    // The listener's socket and the publisher's (those of earlier tests may still be closing: fewer is fine).
    const open = sockets();
    const ac = new AbortController();
    let count = 0;
    const err = await rejection(
      (async () => {
        for await (const _ of listener.services({ signal: ac.signal })) {
          count += 1;
          if (count === 3) ac.abort();
        }
      })(),
    );
    expect((err as DOMException).name).toBe('AbortError');
    expect(count).toBe(3);
    expect(handlers(listener)).toBe(0);
    for (const c of cleanups.splice(0).reverse()) await c();
    await waitFor(() => sockets() <= open - 2, 'the sockets to close', 5000);
  });

  it.skipIf(!existsSync(LIBRARY))(
    'an application that aborts find() and services() and stops the listener exits by itself',
    async () => {
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', ABANDONING_APP, LIBRARY, '239.31.0.6', String(await freeUdpPort())],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((r) => child.once('close', r));
      clearTimeout(killer);
      expect(out).toBe('find AbortError\nservices AbortError\nstopped\n');
      expect(code).toBe(0);
    },
  );
});
