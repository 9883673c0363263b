/**
 * The receive queue's rules, driven turn by turn with setImmediate as libuv drives it: a turn that reads a full
 * batch (32) makes the next datagrams wait while the socket is read; held datagrams are handled in order, in
 * slices, between reads; past its bound it handles the oldest before taking a new one.
 */
import type { RemoteInfo } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ReceiveQueue } from '../../src/discovery/net/receive-queue.js';

const rinfo: RemoteInfo = { address: '10.0.0.1', family: 'IPv4', port: 5000, size: 0 };
const turn = () => new Promise<void>((r) => setImmediate(r));
const msg = (n: number) => Buffer.from(String(n));

function recorder(limits?: ConstructorParameters<typeof ReceiveQueue>[2]) {
  const handled: number[] = [];
  const times: number[] = [];
  let clock = 0;
  const q = new ReceiveQueue(
    (m, _r, t) => {
      handled.push(Number(m.toString()));
      times.push(t);
    },
    () => clock,
    limits,
  );
  return { q, handled, times, tick: (ms: number) => (clock += ms) };
}

describe('ReceiveQueue', () => {
  it('handles each datagram as it is read while turns read less than a full batch', async () => {
    const { q, handled } = recorder();
    for (let i = 0; i < 31; i++) q.offer(msg(i), rinfo);
    expect(handled).toHaveLength(31);
    await turn();
    q.offer(msg(31), rinfo);
    expect(handled).toHaveLength(32);
    expect(q.length).toBe(0);
  });

  it('holds datagrams after a full turn, reads until a turn is not full, then handles them in order', async () => {
    const { q, handled } = recorder();
    let n = 0;
    for (let i = 0; i < 32; i++) q.offer(msg(n++), rinfo); // a full batch: handled, but the socket has more
    await turn();
    for (let i = 0; i < 32; i++) q.offer(msg(n++), rinfo); // read, not handled: still a full batch
    expect(handled).toHaveLength(32);
    expect(q.length).toBe(32);
    await turn(); // that turn was full: nothing handled yet
    expect(handled).toHaveLength(32);
    for (let i = 0; i < 5; i++) q.offer(msg(n++), rinfo); // the socket is nearly empty now
    expect(q.length).toBe(37);
    await turn();
    expect(q.length).toBe(0);
    expect(handled).toEqual(Array.from({ length: n }, (_, i) => i));
    // Caught up: the next datagram is handled as it is read.
    q.offer(msg(n), rinfo);
    expect(handled.at(-1)).toBe(n);
  });

  it('passes on when each datagram was read, not when it was handled', async () => {
    const { q, times, tick } = recorder();
    for (let i = 0; i < 32; i++) q.offer(msg(i), rinfo);
    await turn();
    tick(5);
    q.offer(msg(32), rinfo);
    tick(7);
    await turn();
    await turn();
    expect(times.at(-1)).toBe(5);
  });

  it('handles in slices of sliceMs, reading in between', async () => {
    const { q, handled } = recorder({ sliceMs: 0 });
    for (let i = 0; i < 32; i++) q.offer(msg(i), rinfo);
    await turn();
    for (let i = 32; i < 100; i++) q.offer(msg(i), rinfo);
    await turn(); // full turn: read only
    await turn(); // a slice of 0 ms still handles one group of 16
    expect(handled.length).toBeGreaterThan(32);
    expect(handled.length).toBeLessThan(100);
    for (let i = 0; i < 10 && q.length > 0; i++) await turn();
    expect(handled).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('grows no further than its bound: the oldest is handled before a new one is held', async () => {
    const { q, handled } = recorder({ maxDatagrams: 10 });
    for (let i = 0; i < 32; i++) q.offer(msg(i), rinfo);
    await turn();
    for (let i = 32; i < 64; i++) q.offer(msg(i), rinfo);
    expect(q.length).toBe(10);
    expect(q.stats()).toEqual({ held: 10, peak: 10, total: 32 });
    expect(handled).toEqual(Array.from({ length: 54 }, (_, i) => i));
    q.flush();
    expect(handled).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  it('bounds the bytes held too', async () => {
    const { q } = recorder({ maxBytes: 20 });
    for (let i = 0; i < 32; i++) q.offer(msg(i), rinfo);
    await turn();
    for (let i = 0; i < 30; i++) q.offer(Buffer.alloc(6), rinfo);
    expect(q.length).toBe(3);
  });

  it('with maxDatagrams 0 handles every datagram as it is read', async () => {
    const { q, handled } = recorder({ maxDatagrams: 0 });
    for (let i = 0; i < 32; i++) q.offer(msg(i), rinfo);
    await turn();
    for (let i = 32; i < 64; i++) q.offer(msg(i), rinfo);
    expect(handled).toHaveLength(64);
    expect(q.length).toBe(0);
  });
});
