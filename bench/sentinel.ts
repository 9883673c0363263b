/**
 * A process that does nothing but tick a 2 ms timer on the CPU it is pinned to (host-pauses.ts starts one per
 * CPU through `taskset`). A tick late by more than the time this thread waited for the core (its run delay)
 * means that nothing ran on that CPU: the host had taken the virtual CPU away. It sends its list of such pauses
 * (on CLOCK_MONOTONIC, ms) when asked, and exits with its parent.
 */
import { runDelayReader } from './thread-stats.js';

const runDelayMs = runDelayReader();
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Often enough for the pauses that matter (several ms); each tick costs the CPU's other work a context switch. */
const PERIOD_MS = 2;

/** [start, end, ms not explained by a wait for the core]. */
const pauses: [number, number, number][] = [];
let last = monoMs();
let lastDelay = runDelayMs();
setInterval(() => {
  const now = monoMs();
  const delay = runDelayMs();
  const unexplained = now - last - PERIOD_MS - (delay - lastDelay);
  if (unexplained > 0.5) pauses.push([last, now, unexplained]);
  last = now;
  lastDelay = delay;
}, PERIOD_MS);

process.on('message', () => process.send?.(pauses));
process.on('disconnect', () => process.exit(0));
process.send?.('ready');
