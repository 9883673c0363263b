/**
 * The receive queue's store: first in, first out, bytes intact across wrap-arounds, each datagram's sender and
 * read time kept, and no room claimed past either bound.
 */
import type { RemoteInfo } from 'node:dgram';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatagramRing } from '../../src/discovery/net/datagram-ring.js';

const from = (n: number): RemoteInfo => ({
  address: `10.0.${n >> 8}.${n & 255}`,
  family: 'IPv4',
  port: 1000 + n,
  size: 0,
});

describe('DatagramRing', () => {
  it('gives back what it was given, in order, whatever the sizes and the interleaving', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 700 }), fc.constant(-1)), { maxLength: 400 }),
        (ops) => {
          const ring = new DatagramRing(16, 2048);
          const expected: { bytes: Buffer; n: number }[] = [];
          let n = 0;
          const take = () =>
            ring.shift((msg, rinfo, time) => {
              const want = expected.shift();
              expect(want).toBeDefined();
              expect(Buffer.compare(msg, want?.bytes as Buffer)).toBe(0);
              expect(rinfo).toEqual({ ...from(want?.n as number), size: msg.length });
              expect(time).toBe(want?.n);
            });
          for (const op of ops) {
            if (op < 0) {
              take();
              continue;
            }
            const bytes = Buffer.alloc(op, n % 251);
            if (op >= 4) bytes.writeUInt32LE(n, op - 4);
            if (ring.push(bytes, from(n), n)) expected.push({ bytes, n });
            else {
              // Refused only when full by count, or by bytes (the end of the store may sit unused, at most
              // one datagram's worth, when the next one wraps to its start).
              const held = expected.reduce((a, e) => a + e.bytes.length, 0);
              expect(expected.length === 16 || held + op > 2048 - 700).toBe(true);
            }
            n++;
          }
          while (expected.length > 0) take();
          expect(ring.length).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses past its bounds and takes again once the oldest is gone', () => {
    const ring = new DatagramRing(2, 10);
    expect(ring.push(Buffer.alloc(4), from(1), 1)).toBe(true);
    expect(ring.push(Buffer.alloc(4), from(2), 2)).toBe(true);
    expect(ring.push(Buffer.alloc(1), from(3), 3)).toBe(false); // two held: the count bound
    ring.shift(() => {});
    expect(ring.push(Buffer.alloc(6), from(4), 4)).toBe(false); // 4 held from byte 4 on: 6 fit nowhere
    expect(ring.push(Buffer.alloc(4), from(5), 5)).toBe(true); // from byte 0 again
    expect(ring.push(Buffer.alloc(11), from(6), 6)).toBe(false); // larger than the whole store
    expect(ring.length).toBe(2);
  });
});
