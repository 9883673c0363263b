/**
 * What the exporters read of a running agent: its listeners and publishers with the labels they export, and
 * the agent-wide facts of the info and reload families. There is no copy of any counter here; every exporter
 * reads the library objects at scrape time. The agent's own state (src/agent/state.ts) is a superset, so the
 * agent passes itself in; this room never imports the agent.
 */
import type { VaultMultiListener } from '../discovery/listener.js';
import type { VaultMultiPublisher } from '../discovery/publisher.js';

/** The configuration an exporter reads: the label values. */
export interface EndpointLabels {
  readonly group: string;
  readonly port: number;
}

export interface ListenerEntry {
  readonly name: string;
  readonly config: EndpointLabels;
  readonly listener: VaultMultiListener;
}

export interface PublisherEntry {
  readonly name: string;
  readonly config: EndpointLabels;
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
