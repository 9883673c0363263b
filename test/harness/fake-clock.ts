import type { Clock } from '../../src/discovery/clock.js';

/** A clock the test moves by hand: monotonic and wall time advance together unless told otherwise. */
export class FakeClock implements Clock {
  mono = 1_000_000;
  wall = Date.UTC(2026, 0, 1);
  monotonicMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  advance(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }
}
