/**
 * Delays between attempts to re-create a socket or re-join a group: doubling from `minMs` up to `maxMs`, each
 * moved by up to ±20 % so that many processes hit by the same outage do not retry in step.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs = 250,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    if (base < this.maxMs) this.attempt += 1;
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
