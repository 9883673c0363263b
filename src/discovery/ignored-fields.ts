import { zeroCounts } from './drop-reasons.js';

/**
 * Fields an announcement may carry with a value this library cannot use (a string `ttl`, an ISO `timestamp`,
 * an object as `name`). The original gives them no meaning and accepts the announcement; so does the
 * listener: the field loses its meaning here, never the service, and is counted so an operator can see it.
 * The strings are label values of `vault_multicast_ignored_fields_total{field}`: never rename one.
 */
export const IGNORED_FIELDS = [
  'name',
  'version',
  'port',
  'ttl',
  'seq',
  'timestamp',
  'goodbye',
  'metrics_port',
] as const;

export type IgnoredField = (typeof IGNORED_FIELDS)[number];

export function emptyIgnoredCounts(): Record<IgnoredField, number> {
  return zeroCounts(IGNORED_FIELDS);
}
