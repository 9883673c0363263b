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

/** libuv's per-turn read limit for one UDP socket (see read-backlog.ts). */
const FULL_TURN = 32;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export interface ReceiveQueueLimits {
  /** Datagrams held at most (default 32,768); 0 handles each as it is read, whatever waits in the socket. */
  readonly maxDatagrams?: number;
  /** Their bytes at most (default 16 MiB). */
  readonly maxBytes?: number;
  /** Longest a turn spends handling held datagrams before it reads again, ms (default 2). */
  readonly sliceMs?: number;
}

export type Handle = (msg: Buffer, rinfo: RemoteInfo, nowMonoMs: number) => void;

export interface ReceiveQueueStats {
  /** Datagrams held now. */
  readonly held: number;
  /** The most held at once since the listener was made: how close a burst came to the bound. */
  readonly peak: number;
  /** Datagrams that waited in the queue before they were handled, since the listener was made. */
  readonly total: number;
}

export class ReceiveQueue {
  readonly #handle: Handle;
  readonly #now: () => number;
  #maxDatagrams = 0;
  #maxBytes = 0;
  #sliceMs = 0;
  #msgs: Buffer[] = [];
  #infos: RemoteInfo[] = [];
  #times: number[] = [];
  #head = 0;
  #bytes = 0;
  /** Set while datagrams are held, or while the socket delivers full batches: new ones queue behind. */
  #behind = false;
  #turnReads = 0;
  #turnScheduled = false;
  #peak = 0;
  #total = 0;

  constructor(handle: Handle, now: () => number, limits: ReceiveQueueLimits = {}) {
    this.#handle = handle;
    this.#now = now;
    this.configure(limits);
  }

  /** New bounds (a reload); what is held stays, a lower bound applies from the next datagram. */
  configure(limits: ReceiveQueueLimits): void {
    this.#maxDatagrams = limits.maxDatagrams ?? DEFAULT_RECEIVE_QUEUE_DATAGRAMS;
    this.#maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#sliceMs = limits.sliceMs ?? 2;
  }

  /** Datagrams held now. */
  get length(): number {
    return this.#msgs.length - this.#head;
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
    if (!this.#behind || this.#maxDatagrams === 0) {
      this.#handle(msg, rinfo, now);
      return;
    }
    if (this.length >= this.#maxDatagrams || this.#bytes + msg.length > this.#maxBytes) this.#handleOne();
    this.#msgs.push(msg);
    this.#infos.push(rinfo);
    this.#times.push(now);
    this.#bytes += msg.length;
    this.#total++;
    if (this.length > this.#peak) this.#peak = this.length;
  };

  /** Handles everything held, at once (the listener is stopping). */
  flush(): void {
    while (this.length > 0) this.#handleOne();
    this.#behind = false;
  }

  /**
   * After the poll phase of a turn: a full batch read means the socket holds more, so read again before
   * handling anything; otherwise handle held datagrams for a slice.
   */
  readonly #endOfTurn = (): void => {
    const full = this.#turnReads >= FULL_TURN;
    this.#turnReads = 0;
    this.#turnScheduled = false;
    if (full) this.#behind = true;
    else if (this.length > 0) {
      const until = performance.now() + this.#sliceMs;
      do {
        for (let i = 0; i < 16 && this.length > 0; i++) this.#handleOne();
      } while (this.length > 0 && performance.now() < until);
    }
    if (this.length === 0) {
      if (!full) this.#behind = false;
      this.#compact();
    }
    if (this.#behind && !this.#turnScheduled) {
      this.#turnScheduled = true;
      setImmediate(this.#endOfTurn);
    }
  };

  #handleOne(): void {
    const i = this.#head;
    const msg = this.#msgs[i] as Buffer;
    const rinfo = this.#infos[i] as RemoteInfo;
    const time = this.#times[i] as number;
    // Released as they are handled, so a long queue does not keep the bytes of handled datagrams alive.
    (this.#msgs as (Buffer | undefined)[])[i] = undefined;
    (this.#infos as (RemoteInfo | undefined)[])[i] = undefined;
    this.#head = i + 1;
    this.#bytes -= msg.length;
    if (this.#head >= 4096 && this.#head * 2 >= this.#msgs.length) this.#compact();
    this.#handle(msg, rinfo, time);
  }

  #compact(): void {
    if (this.#head === 0) return;
    this.#msgs = this.#msgs.slice(this.#head);
    this.#infos = this.#infos.slice(this.#head);
    this.#times = this.#times.slice(this.#head);
    this.#head = 0;
  }
}
