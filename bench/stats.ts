/** Small statistics for benchmark reports. */
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { pausedMs, pausesByCpu, watchHostPauses } from './host-pauses.js';
import { cpuReader, runDelayReader } from './thread-stats.js';

/** performance.now() 0 on hrtime's clock, µs. */
const HRTIME_ORIGIN_US = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
const HRTIME_ORIGIN_MS = HRTIME_ORIGIN_US / 1000;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export function summary(samples: readonly number[]): { median: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

export const ms = (v: number) => `${v.toFixed(2)} ms`;
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export interface Stalls {
  /** Longest event-loop stall, ms (perf_hooks' loop-delay histogram, 1 ms resolution). */
  stallMs: number;
  /**
   * The worst stall with what was not the process's code taken out, ms: the time its thread waited for a core
   * (another process or zlib's threads had it: the scheduler's run delay, /proc/thread-self/schedstat), the
   * V8 collections inside it, and the host's pauses of the CPU it ran on (host-pauses.ts). What is left is
   * JavaScript (ours, Node's) holding the loop.
   */
  codeStallMs: number;
  /** Longest single pause of a V8 collection, ms. */
  gcPauseMs: number;
  /** Most of one stall that the host's pauses of the CPU took, ms (host-pauses.ts). */
  hostPauseMs: number;
}

/**
 * Notes each late turn of the event loop: when it ended, how late, and how long the thread waited for a core
 * in it. A 1 ms interval by default (costs nothing between turns); `everyTurn` ticks in every turn instead
 * (setImmediate), for sub-millisecond gaps during one short piece of work.
 */
export class GapLog {
  readonly gaps: [end: number, ms: number, waitedMs: number, cpu: number][] = [];
  readonly gc: [start: number, ms: number][] = [];
  readonly #everyTurn: boolean;
  #tick: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #observer: PerformanceObserver | undefined;

  constructor(opts: { everyTurn?: boolean } = {}) {
    this.#everyTurn = opts.everyTurn ?? false;
  }

  start(): this {
    watchHostPauses();
    const runDelay = runDelayReader();
    const cpu = cpuReader();
    const everyTurn = this.#everyTurn;
    let last = performance.now();
    let lastDelay = runDelay();
    const tick = () => {
      const now = performance.now();
      const delay = runDelay();
      // A 1 ms interval is late past 2 ms; a turn is a gap past 0.5 ms.
      const gap = everyTurn ? now - last : now - last - 1;
      if (gap > (everyTurn ? 0.5 : 1)) this.gaps.push([now, gap, delay - lastDelay, cpu()]);
      last = now;
      lastDelay = delay;
      if (everyTurn && this.#tick) setImmediate(tick);
    };
    this.#tick = tick;
    if (everyTurn) setImmediate(tick);
    else this.#timer = setInterval(tick, 1);
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gc.push([e.startTime, e.duration]);
    });
    this.#observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  /** Stops watching at once; the figures come after the last collections' entries arrived (a later turn). */
  async stop(): Promise<{ worstMs: number; codeStallMs: number; gcPauseMs: number; hostPauseMs: number }> {
    const tick = this.#tick;
    this.#tick = undefined;
    clearInterval(this.#timer);
    if (this.#everyTurn) tick?.(); // the gap up to now
    await new Promise((r) => setTimeout(r, 5));
    this.#observer?.disconnect();
    const pauses = await pausesByCpu();
    let worstMs = 0;
    let codeStallMs = 0;
    let hostPauseMs = 0;
    for (const [end, ms, waitedMs, cpu] of this.gaps) {
      const start = end - ms;
      let gc = 0;
      for (const [s, d] of this.gc) gc += Math.max(0, Math.min(end, s + d) - Math.max(start, s));
      const host = pausedMs(pauses[cpu], HRTIME_ORIGIN_MS + start, HRTIME_ORIGIN_MS + end);
      hostPauseMs = Math.max(hostPauseMs, host);
      // Collections, the waits for a core and the host's pauses out: none is code the work could cut.
      const code = Math.max(0, ms - waitedMs - gc - host);
      worstMs = Math.max(worstMs, ms);
      codeStallMs = Math.max(codeStallMs, code);
      // To find a stall in a --cpu-prof profile (its clock is hrtime's, in µs).
      if (process.env.VM_BENCH_TRACE_STALLS && code > 4)
        process.stderr.write(
          `stall: ends at hrtime ${Math.round(HRTIME_ORIGIN_US + end * 1000)} µs, ${ms.toFixed(1)} ms, ${code.toFixed(1)} ms of code\n`,
        );
    }
    return { worstMs, codeStallMs, gcPauseMs: Math.max(0, ...this.gc.map(([, d]) => d)), hostPauseMs };
  }
}

/** Watches the event loop from start() to stop(); see Stalls. */
export class LoopWatch {
  readonly #delay = monitorEventLoopDelay({ resolution: 1 });
  readonly #log = new GapLog();

  start(): this {
    this.#delay.enable();
    this.#log.start();
    return this;
  }

  /** Stops watching at once (so two watches stopped together do not see each other's reckoning). */
  async stop(): Promise<Stalls> {
    this.#delay.disable();
    const { codeStallMs, gcPauseMs, hostPauseMs } = await this.#log.stop();
    return { stallMs: this.#delay.max / 1e6, codeStallMs, gcPauseMs, hostPauseMs };
  }
}

/**
 * Runs `fn` and reports the longest event-loop stall while it ran: the longest a datagram waiting in the
 * receive socket would have waited for the listener's handler; and how much of it was JavaScript (Stalls).
 */
export async function longestStallDuring<T>(fn: () => Promise<T> | T): Promise<{ result: T } & Stalls> {
  const watch = new LoopWatch().start();
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await watch.stop();
    throw err;
  }
  return { result, ...(await watch.stop()) };
}

/** CPU time (user + system, all threads of this process) and wall time of one run, in ms. */
export async function cpuAndWall<T>(
  fn: () => Promise<T> | T,
): Promise<{ result: T; cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, cpu: (c.user + c.system) / 1000, wall };
}
