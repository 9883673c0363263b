/**
 * Datagrams held in process memory while the receive path falls behind the socket, so that a short burst of
 * work (10,000 services all new within 0.1 s at start, cold code, a collection of the heap) overflows neither
 * the kernel's receive buffer nor anything else.
 *
 * The kernel's buffer is capped by net.core.rmem_max (4 MiB here and in most pods: ~9,000 small datagrams, 90 ms
 * at 100,000/s), and a datagram it cannot hold is lost. Reading one costs a fraction of handling it (~2.5 µs
 * against 5–10 µs for a service seen for the first time), so when a turn of the event loop reads a full libuv
 * batch the queue stops handling and only reads, until the socket is empty; then it handles what it holds in
 * slices between reads. In the steady state nothing is queued: each datagram is handled as it is read.
 *
 * Bounded: past `maxDatagrams` or `maxBytes` each new datagram first handles the oldest one held, so the queue
 * grows no further and the kernel's buffer takes the overflow, as without a queue. Order is kept throughout.
 */
import type { RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { DEFAULT_RECEIVE_QUEUE_DATAGRAMS } from '../constants.js';
import { DatagramRing, type Take } from './datagram-ring.js';
import { READS_PER_TURN } from './read-backlog.js';

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_SLICE_MS = 2;

export interface ReceiveQueueLimits {
  /** Datagrams held at most (default 32,768); 0 handles each as it is read, whatever waits in the socket. */
  readonly maxDatagrams?: number;
  /** Their bytes at most (default 16 MiB). */
  readonly maxBytes?: number;
  /** Longest a turn spends handling held datagrams before it reads again, ms (default 2). */
  readonly sliceMs?: number;
}

export interface ReceiveQueueStats {
  /** Datagrams held now. */
  readonly held: number;
  /** The most held at once since the listener was made: how close a burst came to the bound. */
  readonly peak: number;
  /** Datagrams that waited in the queue before they were handled, since the listener was made. */
  readonly total: number;
}

export class ReceiveQueue {
  readonly #handle: Take;
  readonly #now: () => number;
  #ring: DatagramRing;
  #sliceMs = DEFAULT_SLICE_MS;
  /** Set while datagrams are held, or while the socket delivers full batches: new ones queue behind. */
  #behind = false;
  #turnReads = 0;
  #turnScheduled = false;
  #peak = 0;
  #total = 0;

  constructor(handle: Take, now: () => number, limits: ReceiveQueueLimits = {}) {
    this.#handle = handle;
    this.#now = now;
    this.#sliceMs = limits.sliceMs ?? DEFAULT_SLICE_MS;
    this.#ring = ringFor(limits);
  }

  /** New bounds (a reload): what is held under the old ones is handled first. */
  configure(limits: ReceiveQueueLimits): void {
    this.#sliceMs = limits.sliceMs ?? DEFAULT_SLICE_MS;
    const ring = ringFor(limits);
    if (ring.maxDatagrams === this.#ring.maxDatagrams && ring.maxBytes === this.#ring.maxBytes) return;
    this.flush();
    this.#ring = ring;
  }

  /** Datagrams held now. */
  get length(): number {
    return this.#ring.length;
  }

  stats(): ReceiveQueueStats {
    return { held: this.length, peak: this.#peak, total: this.#total };
  }

  /** A datagram the socket delivered: handled now, or held behind those read before it. */
  offer = (msg: Buffer, rinfo: RemoteInfo): void => {
    const now = this.#now();
    this.#turnReads++;
    if (!this.#turnScheduled) {
      this.#turnScheduled = true;
      setImmediate(this.#endOfTurn);
    }
    const ring = this.#ring;
    if (!this.#behind || ring.maxDatagrams === 0) {
      this.#handle(msg, rinfo, now);
      return;
    }
    // Full: the oldest is handled to make room, so the queue grows no further and order is kept.
    while (!ring.push(msg, rinfo, now)) {
      if (ring.length === 0) {
        this.#handle(msg, rinfo, now); // larger than the whole byte bound
        return;
      }
      ring.shift(this.#handle);
    }
    this.#total++;
    if (ring.length > this.#peak) this.#peak = ring.length;
  };

  /** Handles everything held, at once (the listener is stopping, or the bounds change). */
  flush(): void {
    while (this.#ring.length > 0) this.#ring.shift(this.#handle);
    this.#behind = false;
  }

  /**
   * After the poll phase of a turn: a full batch read means the socket holds more, so read again before
   * handling anything; otherwise handle held datagrams for a slice.
   */
  readonly #endOfTurn = (): void => {
    const full = this.#turnReads >= READS_PER_TURN;
    this.#turnReads = 0;
    this.#turnScheduled = false;
    const ring = this.#ring;
    if (full) this.#behind = true;
    else if (ring.length > 0) {
      const until = performance.now() + this.#sliceMs;
      do {
        for (let i = 0; i < 16 && ring.length > 0; i++) ring.shift(this.#handle);
      } while (ring.length > 0 && performance.now() < until);
    }
    if (ring.length === 0 && !full) this.#behind = false;
    if (this.#behind && !this.#turnScheduled) {
      this.#turnScheduled = true;
      setImmediate(this.#endOfTurn);
    }
  };
}

/** Storage for `limits`; it allocates nothing until it holds a datagram. */
function ringFor(limits: ReceiveQueueLimits): DatagramRing {
  return new DatagramRing(
    limits.maxDatagrams ?? DEFAULT_RECEIVE_QUEUE_DATAGRAMS,
    limits.maxBytes ?? DEFAULT_MAX_BYTES,
  );
}
