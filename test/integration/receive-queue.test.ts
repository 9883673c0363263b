/**
 * A burst the receive path is slower than must not be lost to the kernel's receive buffer, which the system
 * caps (net.core.rmem_max): the listener reads ahead into its receive queue and handles the datagrams between
 * reads. Over a real socket with a small buffer and an application callback that takes 200 µs a datagram, the
 * same burst is lost in part with the queue turned off (the control) and kept whole with it on.
 */
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';

const LO = '127.0.0.1';
const GROUP = '239.18.3.4';
const BURST = 3000;

let listener: VaultMultiListener | undefined;
afterEach(async () => {
  await listener?.stop();
  listener = undefined;
});

/**
 * Sends BURST announcements from another process, 30 a millisecond (~25,000/s: faster than a 200 µs callback
 * lets the listener handle them, far slower than it can read them); resolves when the sender has exited.
 */
function sendBurst(port: number): Promise<void> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    s.bind(0, '${LO}', () => {
      s.setMulticastInterface('${LO}');
      let sent = 0;
      const timer = setInterval(() => {
        for (let i = 0; i < 30 && sent < ${BURST}; i++, sent++)
          s.send(JSON.stringify({ type: 'burst', addr: '10.8.' + (sent >> 8) + '.' + (sent & 255) + ':1' }), ${port}, '${GROUP}');
        if (sent === ${BURST}) { clearInterval(timer); setTimeout(() => s.close(), 300); }
      }, 1);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill(), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`sender exited ${code}`));
    });
  });
}

/** Busy for `us` microseconds, as an application callback that does real work per datagram. */
function busy(us: number): void {
  const until = process.hrtime.bigint() + BigInt(us * 1000);
  while (process.hrtime.bigint() < until);
}

async function burstInto(maxDatagrams: number | undefined): Promise<{ handled: number; peak: number }> {
  const port = await freeUdpPort();
  listener = new VaultMultiListener({
    group: GROUP,
    port,
    interfaces: [LO],
    // The kernel doubles it: 1 MiB, ~1,200 small datagrams, 40 ms of this burst.
    receiveBufferSize: 512 * 1024,
    maxServices: BURST,
    callback: () => busy(200),
    ...(maxDatagrams === undefined ? {} : { receiveQueue: { maxDatagrams } }),
  });
  await listener.start();
  await sendBurst(port);
  // Let it handle what it holds.
  for (let i = 0; i < 250 && listener.receiveQueue.held > 0; i++) await new Promise((r) => setTimeout(r, 20));
  const result = { handled: listener.stats.packetsReceived, peak: listener.receiveQueue.peak };
  await listener.stop();
  listener = undefined;
  return result;
}

describe.skipIf(!IN_TEST_NETNS)('the receive queue', () => {
  it('keeps a burst whole that a slow receive path loses to the kernel buffer without it', async () => {
    const without = await burstInto(0);
    const withQueue = await burstInto(undefined);

    // The control: handling as it reads, the listener falls behind and the kernel drops datagrams.
    expect(without.handled).toBeLessThan(BURST);
    expect(without.peak).toBe(0);
    // Reading ahead, it holds the backlog itself and handles all of it.
    expect(withQueue.handled).toBe(BURST);
    expect(withQueue.peak).toBeGreaterThan(0);
  });

  it('handles what it holds when it stops', async () => {
    const port = await freeUdpPort();
    listener = new VaultMultiListener({
      group: GROUP,
      port,
      interfaces: [LO],
      maxServices: BURST,
      callback: () => busy(200),
    });
    await listener.start();
    // Sent while the loop is held: the socket holds them all when the loop turns again.
    execFileSync(
      process.execPath,
      [
        '-e',
        `const s = require('node:dgram').createSocket('udp4'); s.bind(0, '${LO}', () => { s.setMulticastInterface('${LO}');
         let n = 0; const next = () => n === 500 ? setTimeout(() => s.close(), 300) : s.send(JSON.stringify({ type: 'stop', addr: '10.7.0.' + (n++ % 250) + ':' + n }), ${port}, '${GROUP}', next); next(); });`,
      ],
      { timeout: 20_000 },
    );
    // A few turns: the socket is read ahead of the 200 µs callback.
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    expect(listener.receiveQueue.held).toBeGreaterThan(0);
    const read = listener.stats.packetsReceived + listener.receiveQueue.held;
    await listener.stop();
    expect(listener.receiveQueue.held).toBe(0);
    expect(listener.stats.packetsReceived).toBeGreaterThanOrEqual(read);
    listener = undefined;
  });
});
