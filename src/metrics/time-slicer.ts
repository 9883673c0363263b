/**
 * Cuts long synchronous work (a scrape at 100,000 services, an OTLP collection) into slices that give the
 * event loop back within a time budget. A count of items between yields alone is not enough: the same count
 * takes 1 ms on a quiet core and 10 ms on a busy one, and every millisecond the loop is held, datagrams pile up
 * in the receive socket's buffer.
 *
 * Giving the loop back once is not enough either: a turn reads at most 32 datagrams per socket, far fewer than
 * arrive during a slice at a high rate. So a yield keeps turning the loop while a receiving socket still reads
 * full batches (read-backlog.ts), and the next slice starts once the sockets are drained: the receive path
 * goes first. Under a flood the receivers never drain, so the wait is capped and the work still progresses.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ReadWatch } from '../discovery/net/read-backlog.js';

/** Items between two looks at the clock: reading it costs ~40 ns, an item ~0.1–1 µs. */
const CHECK_EVERY = 64;

export interface SliceOptions {
  /** Longest stretch of work between two turns of the event loop, in ms. */
  readonly sliceMs?: number;
  /** Also yield after this many items, however fast they went (tests use it to force many slices). */
  readonly yieldEvery?: number;
  /** Longest wait for busy receive sockets to drain before the next slice, in ms. */
  readonly maxDrainWaitMs?: number;
}

/** 2 ms of work, then a turn: the receive path keeps up at 100,000 datagrams/s with 8 MiB of socket buffer. */
export const DEFAULT_SLICE_MS = 2;
/** Under a flood the work still gets at least a fifth of the loop (2 ms of every 10). */
export const DEFAULT_MAX_DRAIN_WAIT_MS = 8;

export class TimeSlicer {
  readonly #sliceMs: number;
  readonly #yieldEvery: number;
  readonly #maxDrainWaitMs: number;
  readonly #reads = new ReadWatch();
  #start = performance.now();
  #items = 0;
  #sinceCheck = 0;

  constructor(opts: SliceOptions = {}) {
    this.#sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
    this.#yieldEvery = Math.max(1, opts.yieldEvery ?? Number.POSITIVE_INFINITY);
    this.#maxDrainWaitMs = opts.maxDrainWaitMs ?? DEFAULT_MAX_DRAIN_WAIT_MS;
  }

  /** Counts one item; true when the slice is used up and the caller should `await yield()`. */
  due(): boolean {
    if (++this.#items >= this.#yieldEvery) return true;
    if (++this.#sinceCheck < CHECK_EVERY) return false;
    this.#sinceCheck = 0;
    return performance.now() - this.#start >= this.#sliceMs;
  }

  async yield(): Promise<void> {
    const until = performance.now() + this.#maxDrainWaitMs;
    // Called from an I/O callback, the first turn can end before the loop polls the sockets again: only a
    // turn that starts in the check phase surely contains a poll, so the watch counts from there.
    await nextTurn();
    do {
      this.#reads.mark();
      await nextTurn();
    } while (this.#reads.backlogged() && performance.now() < until);
    this.#restart();
  }

  #restart(): void {
    this.#start = performance.now();
    this.#items = 0;
    this.#sinceCheck = 0;
  }
}
