/**
 * A long scrape or export cut into slices must not starve the receive path. libuv reads at most 32 datagrams
 * per socket per turn of the event loop, so a slicer that gave back a single turn drained a busy socket at
 * 32 datagrams per slice, and datagrams were lost to the scrape. Over a real socket: datagrams queued in the
 * kernel while the loop was busy are all read before the sliced work takes its next slice.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { VaultMultiListener } from '../../src/discovery/listener.js';
import { TimeSlicer } from '../../src/metrics/time-slicer.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';

const LO = '127.0.0.1';
const GROUP = '239.18.3.3';
const QUEUED = 2000;

let listener: VaultMultiListener | undefined;
afterEach(async () => {
  await listener?.stop();
  listener = undefined;
});

/** Sends `count` announcements from another process while this one's event loop is held (execFileSync). */
function sendWhileBlocked(port: number, count: number): void {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    s.bind(0, '${LO}', () => {
      s.setMulticastInterface('${LO}');
      let sent = 0;
      const next = () => {
        // Loopback delivery finishes in softirq context, possibly after send() returned: wait for it.
        if (sent === ${count}) return void setTimeout(() => s.close(), 300);
        const msg = JSON.stringify({ type: 'drain', addr: '10.9.' + (sent >> 8) + '.' + (sent & 255) + ':1' });
        s.send(msg, ${port}, '${GROUP}', next);
        sent++;
      };
      next();
    });`;
  execFileSync(process.execPath, ['-e', script], { timeout: 20_000 });
}

/** A started listener with QUEUED datagrams waiting in its socket, none read yet. */
async function listenerWithQueue(): Promise<VaultMultiListener> {
  const port = await freeUdpPort();
  listener = new VaultMultiListener({
    group: GROUP,
    port,
    interfaces: [LO],
    receiveBufferSize: 4 << 20,
    maxServices: QUEUED,
  });
  await listener.start();
  sendWhileBlocked(port, QUEUED);
  return listener;
}

/**
 * A job that yields after every item, as a scrape yields every 2 ms: how many datagrams were read from the
 * socket before each item (handled, or held in the listener's receive queue to be handled between reads).
 */
async function readBeforeEachItem(
  l: VaultMultiListener,
  slicer: TimeSlicer,
  items: number,
): Promise<number[]> {
  const read: number[] = [];
  for (let item = 0; item < items; item++) {
    read.push(l.stats.packetsReceived + l.receiveQueue.held);
    if (slicer.due()) await slicer.yield();
  }
  return read;
}

describe.skipIf(!IN_TEST_NETNS)('sliced work and the receive path', () => {
  it('reads every datagram the kernel queued before the next slice of a long job, not 32 a slice', async () => {
    const l = await listenerWithQueue();
    // Time enough to drain.
    const read = await readBeforeEachItem(l, new TimeSlicer({ yieldEvery: 1, maxDrainWaitMs: 10_000 }), 20);

    expect(read[0]).toBe(0);
    // One yield was enough to drain the socket: the second item ran after all 2,000 were read.
    expect(read[1]).toBe(QUEUED);
  });

  it('waits for the drain at most maxDrainWaitMs, so a flood cannot stall the job', async () => {
    const l = await listenerWithQueue();
    const read = await readBeforeEachItem(l, new TimeSlicer({ yieldEvery: 1, maxDrainWaitMs: 0 }), 3);

    // With no time to wait, a yield is the two turns that surely poll once: libuv's 32 reads each, no more.
    expect(read[1]).toBeGreaterThan(0);
    expect(read[1]).toBeLessThanOrEqual(2 * 33);
    expect(read[2]).toBeLessThan(QUEUED);
  });
});
