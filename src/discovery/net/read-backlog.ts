/**
 * Whether a receiving socket probably holds more than the event loop has read.
 *
 * libuv reads at most 32 datagrams from a UDP socket per turn of the event loop (its "prevent loop starvation"
 * limit in src/unix/udp.c), however many the kernel holds. Work cut into slices that yield with setImmediate
 * (a scrape, an OTLP export) therefore drains a busy socket only 32 datagrams per slice: at 100,000/s and
 * 2 ms slices the buffer fills about six times faster than it drains, and a long export overflows it. A socket
 * read 32 times in one turn has more waiting; deferrable work asks `ReadWatch.backlogged()` and lets the loop
 * turn again first.
 */
import type { RemoteInfo, Socket } from 'node:dgram';

/** libuv's per-turn read limit for one UDP socket. */
export const READS_PER_TURN = 32;

interface ReadCount {
  reads: number;
}

const counts = new Set<ReadCount>();

/**
 * Calls `onMessage` for every datagram of `socket`, counting the reads for `ReadWatch`. The count goes with
 * the socket when it closes.
 */
export function countReads(socket: Socket, onMessage: (msg: Buffer, rinfo: RemoteInfo) => void): void {
  const count: ReadCount = { reads: 0 };
  counts.add(count);
  socket.on('message', (msg, rinfo) => {
    count.reads++;
    onMessage(msg, rinfo);
  });
  socket.once('close', () => counts.delete(count));
}

/** Remembers each socket's read count at `mark()`, to tell afterwards whether one read a full batch since. */
export class ReadWatch {
  readonly #marks = new Map<ReadCount, number>();

  mark(): void {
    this.#marks.clear();
    for (const c of counts) this.#marks.set(c, c.reads);
  }

  /** True when some socket was read a full libuv batch since `mark()` (one turn): it likely holds more. */
  backlogged(): boolean {
    for (const c of counts) {
      const before = this.#marks.get(c);
      if (before !== undefined && c.reads - before >= READS_PER_TURN) return true;
    }
    return false;
  }
}
