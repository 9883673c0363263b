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

/** The filter of a query, with the search split into terms once rather than per service. */
export function createMatcher(q: Query): (entry: ServiceEntry) => boolean {
  const terms = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  return (entry) => {
    const v = entry.view;
    if (q.listener !== '' && v.listener !== q.listener) return false;
    if (!q.showDeparted && v.state === 'gone') return false;
    if (q.typeFilter !== '' && !v.type.includes(q.typeFilter)) return false;
    return terms.every((t) => entry.haystack.includes(t));
  };
}

/** When the service turns stale (up) or is forgotten (stale, gone), on the client's monotonic clock. */
export function expiresAt(entry: ServiceEntry): number {
  return entry.receivedAt + entry.view.expiresIn;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Natural order of lower-cased strings: digit runs compare as numbers, so node-9 sorts before node-10.
 * Hand-written because Intl.Collator costs microseconds per call, too much for sorting 10 000 rows often.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      let ej = j;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      let si = i;
      while (si < ei - 1 && a.charCodeAt(si) === 48) si++;
      let sj = j;
      while (sj < ej - 1 && b.charCodeAt(sj) === 48) sj++;
      if (ei - si !== ej - sj) return ei - si - (ej - sj);
      for (let k = 0; k < ei - si; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d !== 0) return d;
      }
      i = ei;
      j = ej;
    } else {
      if (ca !== cb) return ca - cb;
      i++;
      j++;
    }
  }
  return a.length - i - (b.length - j);
}

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
    case 'version':
      return naturalCompare(a.sortText[key], b.sortText[key]);
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
  const matches = createMatcher(q);
  const out: ServiceEntry[] = [];
  for (const e of entries) if (matches(e)) out.push(e);
  out.sort((a, b) => compareEntries(a, b, q));
  return out;
}
