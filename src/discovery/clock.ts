/**
 * Time as the library sees it. Expiry runs on the monotonic clock so that wall-clock jumps (NTP steps, a VM
 * resumed from suspend with a corrected date) never expire a live service or keep a dead one; the wall clock is
 * used only for what is shown to people and exported as timestamps. Tests inject a fake.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock with an arbitrary origin. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch. */
  wallMs(): number;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};
