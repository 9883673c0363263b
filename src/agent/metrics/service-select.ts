/**
 * Which services of a listener get per-service series. Gone services (they said goodbye) are left out: a
 * graceful shutdown must not look like an outage. Stale ones stay, with service_up 0, until the registry
 * forgets them, so a "service down" alert keeps firing through the retention window. Past the cap, services
 * that are up take precedence over stale ones, and the rest are counted, never silently lost.
 */
import type { ServiceRecord } from '../../types.js';
import type { ListenerEntry } from '../state.js';

export interface ServiceSelection {
  readonly records: ServiceRecord[];
  /** Up or stale services left out because of the cap. */
  readonly omitted: number;
}

export function selectServices(entry: ListenerEntry, cap: number): ServiceSelection {
  const registry = entry.listener.registry;
  const limit = Math.max(0, Math.floor(cap));
  const staleBudget = Math.max(0, limit - registry.counts().up);
  const records: ServiceRecord[] = [];
  let stale = 0;
  let omitted = 0;
  for (const rec of registry.services()) {
    if (rec.state === 'gone') continue;
    const fits = records.length < limit && (rec.state === 'up' || stale < staleBudget);
    if (!fits) {
      omitted++;
      continue;
    }
    if (rec.state === 'stale') stale++;
    records.push(rec);
  }
  return { records, omitted };
}
