/**
 * Encodes the exported bytes of services that came up (their /metrics labels, their OTLP attributes) soon after
 * they come up, but never in the receive path's way: in slices of at most 1 ms, and only while no listener holds
 * datagrams in its receive queue.
 *
 * Why soon: bytes made while a record is young are promoted with it. Left to the first scrape, 100,000
 * services' bytes (~23 MB) were hung off old records at once, and the young collections that copied them out
 * held that scrape's loop 7–11 ms each. Why not at once: at the start, 10,000 services new within 0.1 s already
 * put the receive path ~20,000 datagrams behind, and encoding them inline (2–3.5 µs a service) took ~7,000 more
 * of the receive queue's 32,768.
 */
import type { ServiceRecord } from '../../discovery/types.js';

/** Past this many waiting, services that come up are left to the next scrape or export to encode. */
const MAX_PENDING = 131_072;
const SLICE_MS = 1;
/** How often a slice looks at the clock. */
const CHECK_EVERY = 64;

export class ExportPreparer {
  readonly #busy: () => boolean;
  readonly #prepare: (rec: ServiceRecord) => void;
  #pending: ServiceRecord[] = [];
  #next = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #stopped = false;

  /** `busy`: whether the receive path has work waiting (then the preparer looks again 1 ms later). */
  constructor(busy: () => boolean, prepare: (rec: ServiceRecord) => void) {
    this.#busy = busy;
    this.#prepare = prepare;
  }

  /** How many services wait to be prepared. */
  get pending(): number {
    return this.#pending.length - this.#next;
  }

  add(rec: ServiceRecord): void {
    if (this.#stopped || this.pending >= MAX_PENDING) return;
    this.#pending.push(rec);
    if (this.#timer === undefined) this.#timer = setImmediate(this.#run);
  }

  /** Forgets what is waiting and takes nothing more (the agent is stopping). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    this.#pending = [];
    this.#next = 0;
  }

  readonly #run = (): void => {
    this.#timer = undefined;
    if (this.#busy()) {
      this.#timer = setTimeout(this.#run, 1);
      return;
    }
    const until = performance.now() + SLICE_MS;
    const pending = this.#pending;
    while (this.#next < pending.length) {
      const rec = pending[this.#next++] as ServiceRecord;
      try {
        this.#prepare(rec);
      } catch {
        // Nothing is lost: the next scrape or export encodes the service itself, and reports what fails there.
      }
      if (this.#next % CHECK_EVERY === 0 && performance.now() >= until) break;
    }
    if (this.#next < pending.length) {
      this.#timer = setImmediate(this.#run);
      return;
    }
    this.#pending = [];
    this.#next = 0;
  };
}
