/**
 * What the agent's exporters, HTTP API and page read: the running listeners and publishers with their
 * configuration. There is no copy of any counter here; every view reads the library objects at request time.
 * The exporters' part of it is src/metrics/state.ts; the agent's entries add the whole configuration.
 */
import type * as exported from '../metrics/state.js';
import type { ListenerConfig, PublisherConfig } from './config/types.js';

export type { ReloadState } from '../metrics/state.js';

export interface ListenerEntry extends exported.ListenerEntry {
  readonly config: ListenerConfig;
}

export interface PublisherEntry extends exported.PublisherEntry {
  readonly config: PublisherConfig;
}

export interface AgentState extends exported.AgentState {
  listeners(): Iterable<ListenerEntry>;
  publishers(): Iterable<PublisherEntry>;
}
