/**
 * What Linux says of the calling thread, read from /proc/thread-self with a descriptor kept open (a read per
 * call, no open). Each reader gives a fallback where the file is missing (not Linux).
 */
import { openSync, readSync } from 'node:fs';

function threadFile(name: string, size: number): (() => string) | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/thread-self/${name}`, 'r');
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(size);
  return () => buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
}

/**
 * How long the thread has waited for a core, ms (0 elsewhere). The scheduler updates the figure when the thread
 * is switched in, so it is exact for waits. Its CPU time is not: on this kind of machine both getrusage and
 * schedstat's run time move in 4 ms ticks.
 */
export function runDelayReader(): () => number {
  const read = threadFile('schedstat', 128);
  return read ? () => Number(read().split(' ')[1]) / 1e6 : () => 0;
}

/** The CPU the thread last ran on (field 39 of stat; -1 elsewhere). */
export function cpuReader(): () => number {
  const read = threadFile('stat', 1024);
  if (!read) return () => -1;
  return () => {
    const stat = read();
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]);
  };
}
