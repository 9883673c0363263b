/**
 * The delay before the next announcement: the interval moved at random by up to ±`jitter` of itself, so a
 * fleet started together does not announce in lock-step. Never below 1 ms.
 */
export function jitteredDelay(
  intervalMs: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const spread = intervalMs * jitter * (2 * random() - 1);
  return Math.max(1, Math.round(intervalMs + spread));
}
