/**
 * A service as one JSON object, the same in every machine-readable output of `browse` (`--json` events,
 * `--first`, `--pick`, `--terminate --json`): the normalised fields, so that `jq -r .addr` works whatever
 * shape the announcement had, and `data`, the announcement exactly as received.
 */
import type { ServiceRecord } from '../discovery/types.js';

export function serviceJson(rec: ServiceRecord): Record<string, unknown> {
  return {
    type: rec.type,
    name: rec.name,
    addr: rec.addr,
    host: rec.host,
    port: rec.port ?? null,
    version: rec.version ?? null,
    state: rec.state,
    source: rec.source,
    packets: rec.packets,
    lost: rec.lost,
    first_seen: rec.firstSeenWallMs / 1000,
    last_seen: rec.lastSeenWallMs / 1000,
    data: rec.data,
  };
}

/** Keys that change with every announcement of an unchanged service (sequence, send time, signature). */
const PER_ANNOUNCEMENT_KEYS = new Set(['seq', 'timestamp', 'sig']);

/** What a `--json` reader would call a change: any field but counters, times and per-announcement keys. */
function fingerprint(rec: ServiceRecord): string {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec.data)) if (!PER_ANNOUNCEMENT_KEYS.has(k)) data[k] = v;
  return JSON.stringify([rec.type, rec.name, rec.addr, rec.version, rec.state, rec.source, data]);
}

/** Remembers what was last printed per service, so that an `update` is printed only when something changed. */
export class ChangeTracker {
  private readonly seen = new Map<string, string>();

  /** Records the service's fields; true when they differ from the last ones recorded. */
  changed(rec: ServiceRecord): boolean {
    const now = fingerprint(rec);
    if (this.seen.get(rec.key) === now) return false;
    this.seen.set(rec.key, now);
    return true;
  }

  forget(rec: ServiceRecord): void {
    this.seen.delete(rec.key);
  }
}
