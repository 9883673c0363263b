/**
 * On a machine shared with other sessions, a benchmark process runs in a session of its own (hence its own
 * autogroup) with the top autogroup weight: with Linux autogroup scheduling `nice` alone does not rank across
 * sessions, and without this a "stall" would mostly measure the neighbours. Still fair scheduling.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export function prioritise(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    writeFileSync(`/proc/${child.pid}/autogroup`, '-20');
  } catch {
    // No autogroups (or not allowed): plain nice still applies.
  }
}
