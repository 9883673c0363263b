/**
 * What the agent's exporters, HTTP API and page read: the running listeners and publishers with their
 * configuration. There is no copy of any counter here; every view reads the library objects at request time.
 */
import type { VaultMultiListener } from '../discovery/listener.js';
import type { VaultMultiPublisher } from '../discovery/publisher.js';
import type { ListenerConfig, PublisherConfig } from './config/types.js';

export interface ListenerEntry {
  readonly name: string;
  readonly config: ListenerConfig;
  readonly listener: VaultMultiListener;
}

export interface PublisherEntry {
  readonly name: string;
  readonly config: PublisherConfig;
  readonly publisher: VaultMultiPublisher;
}

export interface ReloadState {
  /** False after a reload that failed, until the next one succeeds. */
  lastSuccess: boolean;
  /** Wall ms of the last successful load (the initial one counts). */
  lastSuccessWallMs: number;
  successes: number;
  failures: number;
}

export interface AgentState {
  readonly version: string;
  readonly startedWallMs: number;
  listeners(): Iterable<ListenerEntry>;
  publishers(): Iterable<PublisherEntry>;
  readonly reload: Readonly<ReloadState>;
  /** Per-service series exported at most per listener. */
  readonly maxServiceSeries: number;
  /** HTTP connections and requests refused by a hardening limit, by reason. */
  readonly httpRejected?: Readonly<Record<string, number>>;
  /** CIDRs whose announced hosts /api/v1/sd may offer as targets (`sd.allowedTargets`). */
  readonly sdAllowedTargets?: readonly string[];
}
