/**
 * Admission for received datagrams, run on the raw bytes before decoding, cheapest and broadest first:
 *   source filter → per-source rate → global rate → duplicate → signature.
 * Each enabled check is one ReceiveGuard; nothing configured means an empty list and no cost at all.
 * The signer is the sending half of the signature check.
 */
import type { Clock } from '../clock.js';
import { VaultMulticastError } from '../errors.js';
import type { AnnouncementSigner, ReceiveGuard } from '../types.js';
import { DuplicateGuard } from './duplicate.js';
import { GlobalRateLimitGuard, PerSourceRateLimitGuard } from './rate-limit.js';
import type { ReplayCache } from './replay-cache.js';
import {
  createSigner as createHmacSigner,
  SignatureGuard,
  type SigningKey,
  type SigningMode,
} from './signing.js';
import { type LocalNetworksProvider, SourceFilterGuard } from './source-filter.js';

export { parseNetwork } from './cidr.js';
export { DuplicateGuard } from './duplicate.js';
export { GlobalRateLimitGuard, PerSourceRateLimitGuard } from './rate-limit.js';
export { ReplayCache } from './replay-cache.js';
export {
  canonicalGroup,
  DEFAULT_REPLAY_WINDOW_MS,
  MIN_KEY_BYTES,
  SignatureGuard,
  type SigningKey,
  type SigningMode,
  signAnnouncement,
} from './signing.js';
export { SourceFilterGuard, systemLocalNetworks } from './source-filter.js';

export interface ReceiveGuardOptions {
  group: string;
  port: number;
  signing?: {
    mode: SigningMode;
    /** Keys accepted; during a rotation both the old and the new one. */
    keys: readonly SigningKey[];
    replayWindowMs?: number;
    /** Recently accepted MACs remembered at most (default 65,536). */
    replayCacheEntries?: number;
    /** The replay cache to use (keep one across reloads); default a new one. */
    replayCache?: ReplayCache;
    /** No signed datagram stamped before this wall time (the process start) is accepted. */
    notBeforeWallMs?: number;
  };
  /** CIDR networks allowed to announce; empty or absent: any. */
  allowSources?: readonly string[];
  /** Accept only sources on a network of one of this host's interfaces. */
  onLinkOnly?: boolean;
  /** Datagrams per second, per source and for the whole listener; 0 turns either off. */
  rateLimit?: { perSource: number; global: number; maxSources?: number };
  /** Identical datagrams from one source within this window are dropped; 0 or absent: off. */
  duplicateWindowMs?: number;
  /** Entries the duplicate filter remembers at most (default 65,536). */
  duplicateMaxEntries?: number;
  /** Wall clock for the replay window (the monotonic time comes with each datagram). */
  clock?: Clock;
  /** The host's networks for onLinkOnly (default: os.networkInterfaces(), re-read every 10 s). */
  localNetworks?: LocalNetworksProvider;
}

function nonNegative(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!Number.isFinite(v) || v < 0)
    throw new VaultMulticastError('EINVAL', `${name} must be a number ≥ 0, got ${v}`);
  return v;
}

/** Builds the guards a listener runs on every datagram. Throws VaultMulticastError('EINVAL') on bad options. */
export function createReceiveGuards(opts: ReceiveGuardOptions): ReceiveGuard[] {
  const guards: ReceiveGuard[] = [];
  const filter = new SourceFilterGuard({
    allowSources: opts.allowSources,
    onLinkOnly: opts.onLinkOnly,
    localNetworks: opts.localNetworks,
  });
  if (!filter.isNoop) guards.push(filter);
  const perSource = nonNegative('rateLimit.perSource', opts.rateLimit?.perSource);
  const global = nonNegative('rateLimit.global', opts.rateLimit?.global);
  if (perSource > 0) guards.push(new PerSourceRateLimitGuard(perSource, opts.rateLimit?.maxSources));
  if (global > 0) guards.push(new GlobalRateLimitGuard(global));
  const dupWindow = nonNegative('duplicateWindowMs', opts.duplicateWindowMs);
  if (dupWindow > 0) guards.push(new DuplicateGuard(dupWindow, opts.duplicateMaxEntries));
  const signing = opts.signing;
  if (signing && signing.mode !== 'off') {
    guards.push(
      new SignatureGuard({
        mode: signing.mode,
        keys: signing.keys,
        group: opts.group,
        port: opts.port,
        replayWindowMs: signing.replayWindowMs,
        replayCacheEntries: signing.replayCacheEntries,
        replayCache: signing.replayCache,
        notBeforeWallMs: signing.notBeforeWallMs,
        clock: opts.clock,
      }),
    );
  }
  return guards;
}

export interface SignerOptions {
  keyId: string;
  /** At least 32 bytes. */
  key: Buffer;
  group: string;
  port: number;
  clock?: Clock;
}

/** A signer for a publisher on `group`:`port`. Throws VaultMulticastError('EINVAL') for a short key or bad id. */
export function createSigner(opts: SignerOptions): AnnouncementSigner {
  return createHmacSigner(opts);
}
