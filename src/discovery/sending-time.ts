/**
 * Whether an announcement's `timestamp` is its sending time. The original gives `timestamp` no meaning, and
 * every example of its README sets it once, when the message is built, then sends the same bytes for hours:
 * reading that as the sending time makes an "age" that grows forever and a clock-skew alert that fires for
 * every such publisher. So a timestamp counts as the sending time only while it behaves like one:
 *
 * - it advanced since the previous announcement of the same service; or
 * - the announcement carries a `seq` too, which is how a vault-multicast publisher says so: it stamps every
 *   announcement with `timestamp` and `seq` together (on the service's first announcement, or after the
 *   sender's clock stepped back). A `seq` that moved while the timestamp stayed put is an application's own
 *   timestamp, not a stamp: no.
 * - An exact copy (same timestamp, same `seq`: one datagram received twice) keeps the previous answer.
 *
 * Missing, non-numeric or unchanging timestamps therefore never yield an age.
 */
export interface Stamp {
  timestamp: number | undefined;
  seq: number | undefined;
}

/**
 * `previous` is what the service's record kept of the announcement before (its `timestamp` and `lastSeq`),
 * read in place: this runs for every datagram.
 */
export function isSendingTime(
  now: Stamp,
  previous: { timestamp?: number | undefined; lastSeq?: number | undefined } | undefined,
  previousAnswer: boolean,
): boolean {
  const ts = now.timestamp;
  if (ts === undefined) return false;
  const last = previous?.timestamp;
  if (last !== undefined && ts > last) return true;
  if (last === undefined || ts < last) return now.seq !== undefined;
  return previousAnswer && now.seq !== undefined && now.seq === previous?.lastSeq;
}
