/**
 * Time faults: wall-clock steps (NTP, a resumed VM) neither expire a live service nor keep a dead one, with
 * the whole receive path (guards included) in place; a 2 s event-loop stall produces no burst of catch-up
 * announcements; and an expiry sweep that runs late still expires what timed out meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/discovery/clock.js';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { createReceiveGuards } from '../../src/discovery/security/index.js';
import type { SourceInfo } from '../../src/discovery/types.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const LO = '127.0.0.1';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Blocks the event loop, as a long GC pause, a synchronous crypto call or a stopped VM would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('wall-clock steps', () => {
  it('neither expire a live service nor keep an expired one, through the whole receive path', () => {
    const clock = {
      mono: 0,
      wall: 1_767_225_600_000,
      monotonicMs: () => clock.mono,
      wallMs: () => clock.wall,
    };
    const l = new VaultMultiListener({
      group: '239.69.0.1',
      port: 5004,
      interfaces: LO,
      serviceTimeout: 30,
      clock: clock as Clock,
      guards: createReceiveGuards({
        group: '239.69.0.1',
        port: 5004,
        clock: clock as Clock,
        rateLimit: { perSource: 10, global: 100 },
        duplicateWindowMs: 1_000,
      }),
    });
    const receive = (m: Buffer, r: SourceInfo) => l.ingest(m, r);
    const src: SourceInfo = { address: '198.18.0.1', port: 5004, family: 'IPv4', size: 0 };
    const announce = (seq: number) =>
      receive(encodeAnnouncement({ type: 'svc', addr: '198.18.0.1:80' }, { seq }), src);

    announce(1);
    expect(l.registry.counts().up).toBe(1);
    // The wall clock leaps a day ahead: nothing expires, and the next announcement is still admitted.
    clock.wall += 86_400_000;
    clock.mono += 10_000;
    l.registry.sweep();
    expect(l.registry.counts().up).toBe(1);
    announce(2);
    expect(l.stats.accepted).toBe(2);
    // It falls back two days: the service still expires on time, 30 s after its last announcement.
    clock.wall -= 2 * 86_400_000;
    clock.mono += 29_999;
    l.registry.sweep();
    expect(l.registry.counts().up).toBe(1);
    clock.mono += 1;
    l.registry.sweep();
    expect(l.registry.counts()).toMatchObject({ up: 0, stale: 1 });
  });
});

describe.skipIf(!IN_TEST_NETNS)('event-loop stalls', () => {
  it('a 2 s stall causes no burst of catch-up announcements', async () => {
    const port = await freeUdpPort();
    const p = new VaultMultiPublisher({
      group: '239.69.0.2',
      port,
      interfaces: LO,
      interval: 0.1,
      jitter: 0,
      message: { type: 'tick', addr: '198.18.0.2:1' },
    });
    cleanups.push(() => p.stop());
    const sends: number[] = [];
    p.on('sent', () => sends.push(performance.now()));
    await p.start();
    await waitFor(() => sends.length >= 3, 'a few announcements', 5000);
    const stalledAt = performance.now();
    stall(2_000);
    const resumedAt = performance.now();
    await new Promise((r) => setTimeout(r, 1_000));
    await p.stop();
    const during = sends.filter((t) => t > stalledAt && t < resumedAt);
    const firstAfter = sends.filter((t) => t >= resumedAt && t < resumedAt + 150);
    const secondAfter = sends.filter((t) => t >= resumedAt && t < resumedAt + 1_000);
    expect(during).toEqual([]);
    // The interval resumes: one announcement now, then one per 100 ms — never the 20 that "fell due".
    expect(firstAfter.length).toBeLessThanOrEqual(2);
    expect(secondAfter.length).toBeLessThanOrEqual(12);
  });

  it('a sweep that runs late still expires the services that timed out meanwhile', async () => {
    const port = await freeUdpPort();
    const group = '239.69.0.3';
    const l = new VaultMultiListener({ group, port, interfaces: LO, serviceTimeout: 1 });
    cleanups.push(() => l.stop());
    const downs: string[] = [];
    l.on('down', (rec, reason) => downs.push(`${rec.name}:${reason}`));
    await l.start();
    const p = new VaultMultiPublisher({
      group,
      port,
      interfaces: LO,
      interval: 0.2,
      goodbye: false,
      message: { type: 'svc', name: 'sleeper', addr: '198.18.0.3:1' },
    });
    cleanups.push(() => p.stop());
    await p.start();
    await waitFor(() => l.registry.counts().up === 1, 'the service', 5000);
    await p.stop();
    // The sweep timer is due within the stall; it runs only after it, 2 s late.
    stall(2_000);
    await waitFor(() => downs.length > 0, 'the expiry', 3_000);
    expect(downs).toEqual(['sleeper:expired']);
    expect(l.registry.counts()).toMatchObject({ up: 0, stale: 1 });
  });
});
