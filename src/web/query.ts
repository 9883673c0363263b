/**
 * Which services the table shows and in what order: the listener tab, the widget's type filter (a
 * substring of `type`, case-sensitive as in the original), a free-text search, and whether departed
 * (goodbye) services are shown. Pure, so it is unit-tested without a browser.
 */
import type { ServiceStateView } from '../agent/api-types.js';
import type { ServiceEntry } from './store.js';

export type SortKey =
  | 'state'
  | 'type'
  | 'name'
  | 'addr'
  | 'version'
  | 'lastSeen'
  | 'expires'
  | 'age'
  | 'lost'
  | 'listener';
export type SortDirection = 'ascending' | 'descending';

export interface Query {
  /** Listener name, or '' for all listeners. */
  listener: string;
  typeFilter: string;
  search: string;
  showDeparted: boolean;
  sortKey: SortKey;
  sortDirection: SortDirection;
}

export const DEFAULT_QUERY: Query = {
  listener: '',
  typeFilter: '',
  search: '',
  showDeparted: false,
  sortKey: 'type',
  sortDirection: 'ascending',
};

const STATE_ORDER: Record<ServiceStateView, number> = { up: 0, stale: 1, gone: 2 };

export function matches(entry: ServiceEntry, q: Query): boolean {
  const v = entry.view;
  if (q.listener !== '' && v.listener !== q.listener) return false;
  if (!q.showDeparted && v.state === 'gone') return false;
  if (q.typeFilter !== '' && !v.type.includes(q.typeFilter)) return false;
  const terms = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  return terms.every((t) => entry.haystack.includes(t));
}

/** When the service turns stale (up) or is forgotten (stale, gone), on the client's monotonic clock. */
export function expiresAt(entry: ServiceEntry): number {
  return entry.receivedAt + entry.view.expiresIn;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareBy(key: SortKey, a: ServiceEntry, b: ServiceEntry): number {
  const x = a.view;
  const y = b.view;
  switch (key) {
    case 'state':
      return STATE_ORDER[x.state] - STATE_ORDER[y.state];
    case 'type':
    case 'name':
    case 'addr':
    case 'listener':
      return collator.compare(x[key], y[key]);
    case 'version':
      return collator.compare(x.version ?? '', y.version ?? '');
    // Most recently seen first reads as "ascending" age of the last announcement.
    case 'lastSeen':
      return y.lastSeen - x.lastSeen;
    case 'expires':
      return expiresAt(a) - expiresAt(b);
    case 'age':
      return (x.age ?? Number.POSITIVE_INFINITY) - (y.age ?? Number.POSITIVE_INFINITY);
    case 'lost':
      return x.lost - y.lost;
  }
}

/** Sorted by the chosen column, then by type, name and address so that the order is stable. */
export function compareEntries(a: ServiceEntry, b: ServiceEntry, q: Query): number {
  const primary = compareBy(q.sortKey, a, b);
  if (primary !== 0) return q.sortDirection === 'ascending' ? primary : -primary;
  return (
    compareBy('type', a, b) ||
    compareBy('name', a, b) ||
    compareBy('addr', a, b) ||
    compareBy('listener', a, b)
  );
}

export function visibleEntries(entries: Iterable<ServiceEntry>, q: Query): ServiceEntry[] {
  const out: ServiceEntry[] = [];
  for (const e of entries) if (matches(e, q)) out.push(e);
  out.sort((a, b) => compareEntries(a, b, q));
  return out;
}
