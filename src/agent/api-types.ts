/**
 * JSON shapes of the agent's HTTP API (/api/v1/*) and of its event stream (/api/v1/events, Server-Sent
 * Events). The web page imports these as types only. Times are Unix seconds (floats) unless named otherwise.
 */

export type ServiceStateView = 'up' | 'stale' | 'gone';

export interface ServiceView {
  /** The listener that tracks the service. */
  listener: string;
  key: string;
  type: string;
  name: string;
  addr: string;
  version: string | null;
  state: ServiceStateView;
  source: string;
  firstSeen: number;
  lastSeen: number;
  /** Seconds until the service turns stale (up), or until it is forgotten (stale/gone). */
  expiresIn: number;
  ttl: number;
  /**
   * Receive time minus the sender's timestamp of the last announcement, seconds; null unless the timestamp
   * behaves like a sending time (it advances, or comes with `seq`).
   */
  age: number | null;
  lost: number;
  packets: number;
  metricsPort: number | null;
  /** The last announcement as received. */
  data: Record<string, unknown>;
  /** True when the extra keys of `data` were dropped to keep the registry under its byte bound. */
  cut?: boolean;
}

export interface MembershipView {
  interface: string;
  address: string | null;
  joined: boolean;
  error: string | null;
}

/** The original's snapshot keys, plus the drops by reason. */
export interface MetricsView {
  packets_sent: number;
  packets_received: number;
  bytes_sent: number;
  bytes_received: number;
  errors: number;
  active_services: number;
  uptime_seconds: number;
  packets_per_second: number;
  dropped: Record<string, number>;
}

export interface ListenerView {
  name: string;
  group: string;
  port: number;
  interfaces: string[] | 'all' | null;
  running: boolean;
  memberships: MembershipView[];
  receiveBufferBytes: number | null;
  metrics: MetricsView;
}

export interface PublisherView {
  name: string;
  group: string;
  port: number;
  interfaces: string[] | 'all' | null;
  running: boolean;
  intervalSeconds: number;
  metrics: MetricsView;
}

export interface StatusView {
  version: string;
  startedAt: number;
  ready: boolean;
  /** How mutating endpoints are protected: 'disabled' (off), 'open' (on, no auth configured), 'token', 'basic', 'token+basic'. */
  admin: 'disabled' | 'open' | 'token' | 'basic' | 'token+basic';
  reload: { enabled: boolean; lastSuccess: boolean; lastSuccessAt: number };
  listeners: ListenerView[];
  publishers: PublisherView[];
  /** Origins that may frame the page (`http.embedOrigins`); Connect in such a frame posts to its parent. */
  embedOrigins: string[];
}

export interface ServicesResponse {
  services: ServiceView[];
}

/** Server-Sent Events on GET /api/v1/events. The `event:` field is the key, `data:` the JSON value. */
export interface EventStreamMap {
  /** Sent first on every connection and after a reload: the whole state. */
  snapshot: { status: StatusView; services: ServiceView[] };
  /** A service appeared, changed, went down (stale or goodbye) or was forgotten. */
  service: { event: 'up' | 'update' | 'down' | 'removed'; service: ServiceView };
  /** Every second: the counters of every listener and publisher. */
  metrics: { at: number; listeners: ListenerView[]; publishers: PublisherView[] };
}
