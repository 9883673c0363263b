/**
 * Pauses of the virtual CPUs themselves. On this project's reference machine (a 2-vCPU Firecracker VM) the host
 * takes a virtual CPU away now and then for up to ~6–7 ms: two idle processes pinned to one CPU see the same
 * late timer ticks at the same moments, a process on the other CPU sees its own at other moments, and the
 * guest's scheduler shows no run delay for them. A stall of the agent's loop that falls in such a pause is the
 * host's, not the agent's code. One sentinel process per CPU (sentinel.ts), started on first use and ended
 * with this process, notes them; GapLog takes them out of its "code" figure for the CPU its thread was on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** [start, end, ms the CPU did not run anything], on CLOCK_MONOTONIC (process.hrtime), ms. */
export type Pause = [start: number, end: number, ms: number];

let sentinels: Promise<ChildProcess[]> | undefined;

function startSentinels(): Promise<ChildProcess[]> {
  const script = fileURLToPath(new URL('./sentinel.js', import.meta.url));
  const children = cpus().map((_, cpu) =>
    spawn('taskset', ['-c', String(cpu), process.execPath, script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  process.once('exit', () => {
    for (const c of children) c.kill();
  });
  return Promise.all(
    children.map(
      (c) =>
        new Promise<ChildProcess>((resolve, reject) => {
          c.once('error', reject);
          c.once('message', () => {
            c.channel?.unref();
            c.unref();
            resolve(c);
          });
        }),
    ),
  );
}

/**
 * Starts the sentinels (once per process); pausesByCpu() reads them. Without `taskset`, or with
 * VM_BENCH_HOST_PAUSES=0 (to see what the sentinels cost a run), none are noted.
 */
export function watchHostPauses(): void {
  sentinels ??=
    process.env.VM_BENCH_HOST_PAUSES === '0' ? Promise.resolve([]) : startSentinels().catch(() => []);
}

/** What each CPU's sentinel noted so far, by CPU index (empty when not watching). */
export async function pausesByCpu(): Promise<Pause[][]> {
  const children = await (sentinels ?? Promise.resolve([]));
  return Promise.all(
    children.map(
      (c) =>
        new Promise<Pause[]>((resolve) => {
          c.channel?.ref();
          c.once('message', (m: Pause[]) => {
            c.channel?.unref();
            resolve(m);
          });
          c.send('report');
        }),
    ),
  );
}

/** The host's pause time inside [start, end] on `pauses` (a pause counts in proportion to its overlap). */
export function pausedMs(pauses: readonly Pause[] | undefined, start: number, end: number): number {
  let ms = 0;
  for (const [s, e, paused] of pauses ?? []) {
    const overlap = Math.min(end, e) - Math.max(start, s);
    if (overlap > 0) ms += (paused * overlap) / (e - s);
  }
  return ms;
}
