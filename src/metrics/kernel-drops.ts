/**
 * Kernel receive-buffer drops per listener, for kernel_dropped_packets_total. Reading /proc is asynchronous,
 * so the exporters refresh every listener's figure before they build their samples and the sample reader
 * takes the value read for this collection. One KernelDropCounter per listener object, shared by /metrics and
 * OTLP: it carries the totals of sockets that have closed, which must be counted once.
 */

import type { VaultMultiListener } from '../discovery/listener.js';
import { KernelDropCounter } from '../discovery/net/proc-udp.js';
import type { AgentState } from './state.js';

interface Tracked {
  readonly counter: KernelDropCounter;
  value: number | undefined;
  /** A read in progress: concurrent collections share it rather than racing on the counter's state. */
  reading: Promise<void> | undefined;
}

const tracked = new WeakMap<VaultMultiListener, Tracked>();

function track(listener: VaultMultiListener): Tracked {
  let t = tracked.get(listener);
  if (!t) {
    t = {
      counter: new KernelDropCounter(listener.group, listener.port),
      value: undefined,
      reading: undefined,
    };
    tracked.set(listener, t);
  }
  return t;
}

function refreshOne(t: Tracked): Promise<void> {
  t.reading ??= t.counter
    .read()
    .then(
      (value) => {
        t.value = value;
      },
      // /proc unreadable mid-scrape: keep the last figure rather than fail the scrape.
      () => {},
    )
    .finally(() => {
      t.reading = undefined;
    });
  return t.reading;
}

/** Reads /proc for every listener of the state. Never rejects. */
export async function refreshKernelDrops(state: AgentState): Promise<void> {
  const reads: Promise<void>[] = [];
  for (const entry of state.listeners()) reads.push(refreshOne(track(entry.listener)));
  await Promise.all(reads);
}

/** The figure of the last refresh; undefined where /proc has no socket of the listener (or is not Linux). */
export function kernelDropsOf(listener: VaultMultiListener): number | undefined {
  return tracked.get(listener)?.value;
}
