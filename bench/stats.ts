/** Small statistics for benchmark reports. */

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

/**
 * Runs `fn` and reports the longest event-loop stall while it ran: the longest a datagram waiting in the
 * receive socket would have waited for the listener's handler (perf_hooks' loop-delay histogram, 1 ms
 * resolution, so it costs nothing between turns).
 */
export async function longestStallDuring<T>(
  fn: () => Promise<T> | T,
): Promise<{ result: T; stallMs: number }> {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    const result = await fn();
    return { result, stallMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}

/** CPU time (user + system, all threads of this process) and wall time of one run, in ms. */
export async function cpuAndWall<T>(
  fn: () => Promise<T> | T,
): Promise<{ result: T; cpu: number; wall: number }> {
  const { performance } = await import('node:perf_hooks');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, cpu: (c.user + c.system) / 1000, wall };
}
