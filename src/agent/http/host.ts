/**
 * What the HTTP layer needs of the agent: what it reads (the running listeners and publishers, the
 * configuration, readiness, the metrics handler, the events the page streams) and what it may ask for (a
 * reload). The agent implements it and hands itself to startHttpServer(); nothing under http/ imports the
 * Agent class, so the arrows point one way: agent -> http -> views.
 */
import type { EventEmitter } from 'node:events';
import type { ServiceRecord } from '../../discovery/types.js';
import type { MetricsHandler } from '../../metrics/prometheus.js';
import type { StatusView } from '../api-types.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { ServiceEventName } from '../runtime/wiring.js';
import type { AgentState, ListenerEntry } from '../state.js';

export interface ReloadOutcome {
  ok: boolean;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface AgentEvents {
  service: [listener: string, event: ServiceEventName, rec: ServiceRecord];
  reloaded: [];
}

export interface HttpHost extends AgentState {
  readonly log: Logger;
  /** Undefined before the first configuration is applied. */
  readonly config: AgentConfig | undefined;
  readonly events: EventEmitter<AgentEvents>;
  metrics(): MetricsHandler;
  readiness(): Readiness;
  adminMode(): StatusView['admin'];
  listenerEntry(name: string): ListenerEntry | undefined;
  requestReload(): Promise<ReloadOutcome>;
  /** Counts a connection or request refused by a hardening limit (`vault_multicast_http_rejected_total`). */
  countHttpRejection(reason: string): void;
}
