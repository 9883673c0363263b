/**
 * What a reload has to do, worked out from two validated configurations.
 *
 * Rules (docs/configuration.md, "Reload"):
 * - Listeners and publishers are matched by name. A name only in `prev` is removed (stop it; publishers say
 *   goodbye), a name only in `next` is added (start it), the same name with a deeply equal config is unchanged
 *   (keep its socket, its counters and its registry).
 * - A listener present in both with any other difference is `changed`, and so is every listener after a change
 *   under `security` (its guards change): the running listener is reconfigured in place (new settings, new
 *   guards, and for a new group or port new sockets opened before the old close), keeping its registry and
 *   counters. It is not in `removed` or `added`.
 * - A publisher present in both with a difference besides `message` is `changed` and ALSO in `removed` and
 *   `added`: it restarts (its socket settings changed). One whose only difference is `message` is listed in
 *   `messageOnly` and takes the new message in place (updateMessage), keeping its socket and sequence numbers.
 * - A change under `security` restarts no publisher: the agent gives every kept publisher its new signer in
 *   place (updateSigner), so a key rotation sends no goodbye and resets no sequence number.
 * - `http`, `log` and `metrics` are reported as flags; they never restart a listener or publisher. Secret
 *   files are re-read on every load, so a rotated token or certificate shows up as an `http` change.
 */
import type { AgentConfig } from './types.js';

export interface ListenerDiff {
  unchanged: string[];
  /** Names to stop: gone from the new config (publishers: or changed). */
  removed: string[];
  /** Names to start: new in the new config (publishers: or changed). */
  added: string[];
  /** Names present in both with a different config (listeners: also every one after a security change). */
  changed: string[];
}

export interface PublisherDiff extends ListenerDiff {
  /** Names whose only difference is the message: update in place. */
  messageOnly: string[];
}

export interface ConfigDiff {
  listeners: ListenerDiff;
  publishers: PublisherDiff;
  http: boolean;
  log: boolean;
  metrics: boolean;
  security: boolean;
  /** Nothing differs at all. */
  empty: boolean;
}

/** Structural equality for validated config values: plain objects, arrays, Buffers and scalars. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b))
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // A key holding undefined means the same as an absent key.
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const key of keys) if (!deepEqual(ao[key], bo[key])) return false;
  return true;
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.name, item]));
}

function diffNamed<T extends { name: string }>(
  prev: readonly T[],
  next: readonly T[],
  opts: { forceChange: boolean; restartChanged: boolean; onlyMessage: (a: T, b: T) => boolean },
): PublisherDiff {
  const before = byName(prev);
  const after = byName(next);
  const d: PublisherDiff = { unchanged: [], removed: [], added: [], changed: [], messageOnly: [] };
  for (const [name, old] of before) {
    const now = after.get(name);
    if (now === undefined) d.removed.push(name);
    else if (!opts.forceChange && deepEqual(old, now)) d.unchanged.push(name);
    else if (!opts.forceChange && opts.onlyMessage(old, now)) d.messageOnly.push(name);
    else {
      d.changed.push(name);
      if (opts.restartChanged) {
        d.removed.push(name);
        d.added.push(name);
      }
    }
  }
  for (const name of after.keys()) if (!before.has(name)) d.added.push(name);
  return d;
}

export function diffConfig(prev: AgentConfig, next: AgentConfig): ConfigDiff {
  const security = !deepEqual(prev.security, next.security);
  const { messageOnly: _none, ...listeners } = diffNamed(prev.listeners, next.listeners, {
    forceChange: security,
    restartChanged: false,
    onlyMessage: () => false,
  });
  const publishers = diffNamed(prev.publishers, next.publishers, {
    forceChange: false,
    restartChanged: true,
    onlyMessage: (a, b) => deepEqual({ ...a, message: undefined }, { ...b, message: undefined }),
  });
  const http = !deepEqual(prev.http, next.http);
  const log = !deepEqual(prev.log, next.log);
  const metrics = !deepEqual(prev.metrics, next.metrics);
  const empty =
    !http &&
    !log &&
    !metrics &&
    !security &&
    listeners.removed.length + listeners.added.length + listeners.changed.length === 0 &&
    publishers.removed.length + publishers.added.length + publishers.messageOnly.length === 0;
  return { listeners, publishers, http, log, metrics, security, empty };
}
