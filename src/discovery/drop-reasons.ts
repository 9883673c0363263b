/**
 * Why a received datagram was not accepted. Every datagram a listener receives is either accepted or dropped
 * with exactly one of these reasons, so `received = accepted + sum(dropped)` always holds.
 * The strings are label values of `vault_multicast_dropped_packets_total{reason}`: never rename one.
 */
export const DROP_REASONS = [
  // decoding (src/discovery/codec.ts)
  'empty',
  'oversize',
  'not_utf8',
  'not_json',
  'too_deep',
  'not_object',
  'missing_type',
  'missing_addr',
  'bad_value',
  // admission (src/discovery/security/*), checked before decoding
  'source_denied',
  'rate_limited_source',
  'rate_limited_global',
  'duplicate',
  'signature_missing',
  'signature_invalid',
  'unknown_key',
  'replayed',
  // registry
  'filtered',
  'service_limit',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

/** A count of 0 for each of `keys` (a table of label values). */
export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  const counts = {} as Record<K, number>;
  for (const key of keys) counts[key] = 0;
  return counts;
}

export function emptyDropCounts(): Record<DropReason, number> {
  return zeroCounts(DROP_REASONS);
}

/**
 * The reasons that are not errors: a JSON object that is not a service (no `type`, or no address), which the
 * original hands to its callback and so does the listener, and drops by design (type filter, duplicate
 * suppression) or with an alert of their own (service_limit). Every other reason is an error: what the original
 * counts as one (an empty datagram, invalid UTF-8 or JSON, a top level that is not an object) or a safety drop
 * (size, nesting, text length, and the admission refusals). `getMetrics().errors`, the alert
 * VaultMulticastHighErrorRate and the dashboards' error ratio all use this one definition.
 */
export const NOT_ERROR_REASONS = [
  'missing_type',
  'missing_addr',
  'filtered',
  'duplicate',
  'service_limit',
] as const satisfies readonly DropReason[];

/** The drop reasons that count as errors (see NOT_ERROR_REASONS). */
export const ERROR_REASONS: readonly DropReason[] = DROP_REASONS.filter(
  (r) => !(NOT_ERROR_REASONS as readonly DropReason[]).includes(r),
);
