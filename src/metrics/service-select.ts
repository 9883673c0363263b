/**
 * Which services of a listener get per-service series. Gone services (they said goodbye) are left out: a
 * graceful shutdown must not look like an outage. Stale ones stay, with service_up 0, until the registry
 * forgets them, so a "service down" alert keeps firing through the retention window. Past the cap, services
 * that are up take precedence over stale ones, and the rest are counted, never silently lost.
 */

import type { ServiceRecord } from '../discovery/types.js';
import type { ListenerEntry } from './state.js';
import type { TimeSlicer } from './time-slicer.js';

export interface ServiceSelection {
  readonly records: ServiceRecord[];
  /** Up or stale services left out because of the cap. */
  readonly omitted: number;
}

/**
 * With a slicer, the walk over the registry gives the event loop back between slices (100,000 services take
 * 7–20 ms to walk). The registry may change meanwhile: a service forgotten and learned again between two
 * slices would be met twice (two series with one label set make Prometheus reject the whole scrape), so when
 * the registry forgot anything during the walk, keys met twice are dropped afterwards. The common case, no
 * service forgotten mid-walk, builds no set of 100,000 keys per scrape.
 */
export async function selectServices(
  entry: ListenerEntry,
  cap: number,
  slicer?: TimeSlicer,
): Promise<ServiceSelection> {
  const registry = entry.listener.registry;
  const removalsBefore = registry.removals;
  const limit = Math.max(0, Math.floor(cap));
  const staleBudget = Math.max(0, limit - registry.counts().up);
  let records: ServiceRecord[] = [];
  let stale = 0;
  let omitted = 0;
  for (const rec of registry.services()) {
    if (slicer?.due()) await slicer.yield();
    if (rec.state === 'gone') continue;
    const fits = records.length < limit && (rec.state === 'up' || stale < staleBudget);
    if (!fits) {
      omitted++;
      continue;
    }
    if (rec.state === 'stale') stale++;
    records.push(rec);
  }
  if (registry.removals !== removalsBefore) records = await firstOfEachKey(records, slicer);
  return { records, omitted };
}

async function firstOfEachKey(records: ServiceRecord[], slicer?: TimeSlicer): Promise<ServiceRecord[]> {
  const taken = new Set<string>();
  const out: ServiceRecord[] = [];
  for (const rec of records) {
    if (slicer?.due()) await slicer.yield();
    if (taken.has(rec.key)) continue;
    taken.add(rec.key);
    out.push(rec);
  }
  return out;
}
