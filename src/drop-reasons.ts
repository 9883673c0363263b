/**
 * Why a received datagram was not accepted. Every datagram a listener receives is either accepted or dropped
 * with exactly one of these reasons, so `received = accepted + sum(dropped)` always holds.
 * The strings are label values of `vault_multicast_dropped_packets_total{reason}`: never rename one.
 */
export const DROP_REASONS = [
  // decoding (src/codec.ts)
  'empty',
  'oversize',
  'not_utf8',
  'not_json',
  'too_deep',
  'not_object',
  'missing_type',
  'missing_addr',
  'bad_value',
  // admission (src/security/*), checked before decoding
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

export function emptyDropCounts(): Record<DropReason, number> {
  const counts = {} as Record<DropReason, number>;
  for (const reason of DROP_REASONS) counts[reason] = 0;
  return counts;
}
