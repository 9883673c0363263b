/**
 * The widget's purpose for code: `listener.find()` waits for the first service that matches, and
 * `listener.services()` iterates over service events. Both hand out copies (registry records change in place
 * on every announcement), and both remove every handler and timer they added when they settle, end or are
 * aborted, so a cancelled wait leaves nothing behind.
 */
import { VaultMulticastError } from './errors.js';
import type { DownReason, ServiceRecord } from './types.js';

type ServiceHandler = (service: ServiceRecord) => void;
type DownHandler = (service: ServiceRecord, reason: DownReason) => void;

/** What find() and services() need of a listener: its services, its events, where it listens. */
export interface ServiceSource {
  readonly group: string;
  readonly port: number;
  readonly registry: { services(): Iterable<ServiceRecord> };
  on(event: 'up' | 'update' | 'removed', handler: ServiceHandler): unknown;
  on(event: 'down', handler: DownHandler): unknown;
  off(event: 'up' | 'update' | 'removed', handler: ServiceHandler): unknown;
  off(event: 'down', handler: DownHandler): unknown;
}

/**
 * Which services count: a string is a substring of `type` (the widget's filter, case-sensitive as in the
 * original), a function decides by the whole record; undefined or '' accepts every service.
 */
export type ServiceFilter = string | ((service: ServiceRecord) => boolean);

export interface FindOptions {
  /** Seconds to wait before rejecting with code ETIMEDOUT (like the listener's other timeouts); default: no limit. */
  timeout?: number;
  /** Rejects with the signal's reason when aborted. */
  signal?: AbortSignal;
}

export interface ServicesOptions {
  filter?: ServiceFilter;
  /** Ends the iteration: a pending `next()` rejects with the signal's reason, as `events.on()` does. */
  signal?: AbortSignal;
  /** Start with an `up` event for every service already up (default true). */
  existing?: boolean;
}

export type ServiceEvent =
  | { event: 'up' | 'update' | 'removed'; service: ServiceRecord }
  | { event: 'down'; service: ServiceRecord; reason: DownReason };

export function matcher(filter: ServiceFilter | undefined): (service: ServiceRecord) => boolean {
  if (typeof filter === 'function') return filter;
  if (filter === undefined || filter === '') return () => true;
  return (service) => service.type.includes(filter);
}

/** A copy the registry will not change under the caller. */
export function snapshot(service: ServiceRecord): ServiceRecord {
  return { ...service, data: structuredClone(service.data) };
}

function describeFilter(filter: ServiceFilter | undefined): string {
  if (typeof filter === 'string' && filter !== '') return `service of type ~ '${filter}'`;
  return typeof filter === 'function' ? 'matching service' : 'service';
}

function aborted(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export function findService(
  listener: ServiceSource,
  filter: ServiceFilter | undefined,
  options: FindOptions = {},
): Promise<ServiceRecord> {
  const { timeout, signal } = options;
  if (timeout !== undefined && !(timeout >= 0 && Number.isFinite(timeout)))
    return Promise.reject(new VaultMulticastError('EINVAL', `timeout must be a number ≥ 0, got ${timeout}`));
  if (signal?.aborted) return Promise.reject(aborted(signal));
  const matches = matcher(filter);
  for (const service of listener.registry.services())
    if (service.state === 'up' && matches(service)) return Promise.resolve(snapshot(service));

  return new Promise<ServiceRecord>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      listener.off('up', onService);
      listener.off('update', onService);
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    // A predicate may look at fields an update changes (name, data), so updates are checked too.
    function onService(service: ServiceRecord): void {
      if (service.state !== 'up') return;
      let hit: boolean;
      try {
        hit = matches(service);
      } catch (err) {
        cleanup();
        reject(err);
        return;
      }
      if (!hit) return;
      cleanup();
      resolve(snapshot(service));
    }
    function onAbort(): void {
      cleanup();
      reject(aborted(signal as AbortSignal));
    }
    listener.on('up', onService);
    listener.on('update', onService);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(
          new VaultMulticastError(
            'ETIMEDOUT',
            `no ${describeFilter(filter)} announced on ${listener.group}:${listener.port} within ${timeout} s`,
          ),
        );
      }, timeout * 1000);
    }
  });
}

/**
 * Events queue while the consumer is busy. An update replaces a queued update of the same service, so a
 * slow consumer holds at most a few events per service however fast they announce.
 */
export async function* serviceEvents(
  listener: ServiceSource,
  options: ServicesOptions = {},
): AsyncGenerator<ServiceEvent, void, undefined> {
  const { signal } = options;
  if (signal?.aborted) throw aborted(signal);
  const matches = matcher(options.filter);
  const queue: ServiceEvent[] = [];
  const queuedUpdate = new Map<string, ServiceEvent>();
  let wake: (() => void) | undefined;
  let failure: { error: unknown } | undefined;

  const push = (ev: ServiceEvent): void => {
    if (ev.event === 'update') {
      const queued = queuedUpdate.get(ev.service.key);
      if (queued) {
        queued.service = ev.service;
        return;
      }
      queuedUpdate.set(ev.service.key, ev);
    }
    queue.push(ev);
    wake?.();
  };
  const guarded = (service: ServiceRecord, make: (s: ServiceRecord) => ServiceEvent): void => {
    try {
      if (matches(service)) push(make(snapshot(service)));
    } catch (error) {
      failure ??= { error };
      wake?.();
    }
  };
  const onUp = (s: ServiceRecord): void => guarded(s, (service) => ({ event: 'up', service }));
  const onUpdate = (s: ServiceRecord): void => guarded(s, (service) => ({ event: 'update', service }));
  const onDown = (s: ServiceRecord, reason: DownReason): void =>
    guarded(s, (service) => ({ event: 'down', service, reason }));
  const onRemoved = (s: ServiceRecord): void => guarded(s, (service) => ({ event: 'removed', service }));
  const onAbort = (): void => {
    failure ??= { error: aborted(signal as AbortSignal) };
    wake?.();
  };

  if (options.existing ?? true) for (const s of listener.registry.services()) if (s.state === 'up') onUp(s);
  listener.on('up', onUp);
  listener.on('update', onUpdate);
  listener.on('down', onDown);
  listener.on('removed', onRemoved);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (true) {
      if (failure) throw failure.error;
      const ev = queue.shift();
      if (ev === undefined) {
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
        continue;
      }
      if (ev.event === 'update') queuedUpdate.delete(ev.service.key);
      yield ev;
    }
  } finally {
    listener.off('up', onUp);
    listener.off('update', onUpdate);
    listener.off('down', onDown);
    listener.off('removed', onRemoved);
    signal?.removeEventListener('abort', onAbort);
  }
}
