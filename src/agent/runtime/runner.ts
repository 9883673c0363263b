/**
 * Keeps one listener or publisher running: starts it, and when the start fails (EADDRINUSE, a missing
 * interface) logs the reason and tries again with backoff until it succeeds or the runner is stopped. The agent
 * keeps serving everything else meanwhile.
 */
import type { Logger } from '../logger.js';
import { RateLimitedLog } from '../logger.js';
import { Backoff, type BackoffOptions } from './retry.js';

export interface Startable {
  start(): Promise<void>;
  stop(timeout?: number): Promise<void>;
  isRunning(): boolean;
  /** Listeners count socket errors by code (`stats.socketErrors`); a failed start is one of them. */
  readonly stats?: object;
}

function socketErrorCounts(t: Startable): Record<string, number> | undefined {
  return (t.stats as { socketErrors?: Record<string, number> } | undefined)?.socketErrors;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function totalErrors(t: Startable): number {
  let n = 0;
  for (const v of Object.values(socketErrorCounts(t) ?? {})) n += v;
  return n;
}

export class Runner<T extends Startable> {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly backoff: Backoff;
  readonly rlog: RateLimitedLog;

  constructor(
    readonly kind: 'listener' | 'publisher',
    readonly name: string,
    readonly target: T,
    readonly log: Logger,
    backoff?: BackoffOptions,
  ) {
    this.backoff = new Backoff(backoff);
    this.rlog = new RateLimitedLog(log);
  }

  get running(): boolean {
    return this.target.isRunning();
  }

  /** First attempt; resolves once it succeeded or failed (a failure schedules the retries). */
  start(): Promise<void> {
    return this.attempt();
  }

  private attempt(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return Promise.resolve();
    const errorsBefore = totalErrors(this.target);
    const run = this.target.start().then(
      () => {
        this.backoff.reset();
        if (this.stopped) return this.target.stop();
        this.log.info(`${this.kind} started`);
      },
      (err: unknown) => {
        if (this.stopped) return;
        const delay = this.backoff.next();
        const code = errorCode(err);
        // A bind failure is a socket error like any other: make it visible in the exported counts, unless
        // the library already counted it.
        const counts = socketErrorCounts(this.target);
        if (counts !== undefined && totalErrors(this.target) === errorsBefore)
          counts[code] = (counts[code] ?? 0) + 1;
        this.rlog.log(
          'error',
          `start:${code}`,
          { code, err: err instanceof Error ? err.message : String(err), retryInMs: delay },
          `${this.kind} could not start; retrying`,
        );
        this.timer = setTimeout(() => void this.attempt(), delay);
      },
    );
    this.inFlight = run;
    return run;
  }

  async stop(timeoutMs?: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A start still in flight is let finish (its socket is then closed) so that no socket is left open.
    if (this.inFlight) await this.inFlight.catch(() => undefined);
    try {
      if (this.target.isRunning()) await this.target.stop(timeoutMs);
    } catch (err) {
      this.log.warn({ err: String((err as Error)?.message ?? err) }, `${this.kind} stop failed`);
    } finally {
      this.rlog.close();
    }
  }
}
