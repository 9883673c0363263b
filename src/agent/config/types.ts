/**
 * The agent's configuration after validation: every default filled in, every duration in milliseconds, every
 * secret file already read. The schema (schema.ts) turns the YAML into this; the rest of the agent reads only
 * this shape.
 */

export interface AgentConfig {
  http: HttpConfig;
  /** format: unset means pretty on a terminal, json otherwise (read at start; a reload does not change it). */
  log: { level: 'debug' | 'info' | 'warn' | 'error'; format?: 'json' | 'logfmt' | 'pretty' | undefined };
  metrics: MetricsConfig;
  security: SecurityConfig;
  /** HTTP service discovery: CIDRs whose announced hosts may be offered as targets (default none). */
  sd?: { allowedTargets: string[] };
  listeners: ListenerConfig[];
  publishers: PublisherConfig[];
  /** Things that load but deserve the operator's attention (a secret file others can read); logged at load. */
  warnings?: string[];
}

export interface HttpConfig {
  /** host:port, or [v6]:port. Default 127.0.0.1:9477. */
  listen: string;
  tls: { certFile: string; keyFile: string; cert: string; key: string } | undefined;
  auth: HttpAuthConfig | undefined;
  /** Basic-auth users (name → scrypt hash) for /metrics and /api/v1/sd; none: open. */
  basicAuthUsers?: Record<string, string> | undefined;
  /** POST /-/reload (default false). */
  enableReload: boolean;
  /** POST /api/v1/listeners/:name/reset-metrics and /refresh (default false). */
  enableAdmin: boolean;
  /** Requests per minute allowed on mutating endpoints, per client address (default 10). */
  mutatingRateLimitPerMinute: number;
  /** Open connections at most; more are closed at once (default 512). */
  maxConnections?: number;
  /** Host names besides the listen address, localhost and loopback literals that the page and API answer. */
  allowedHosts?: string[];
  /** Origins that may show the page in a frame (CSP frame-ancestors); none by default. */
  embedOrigins: string[];
}

/** Credentials protecting the mutating endpoints. Either or both. */
export interface HttpAuthConfig {
  /** Bearer token, read from `tokenFile`. */
  token: string | undefined;
  /** Basic auth user name and password, the password read from `passwordFile`. */
  basic: { username: string; password: string } | undefined;
}

export interface MetricsConfig {
  /** Per-service series exported at most per listener (default 10000). */
  maxServiceSeries: number;
  /** Export prom-client's process_* and nodejs_* metrics (default true). */
  processMetrics: boolean;
  otlp: OtlpConfig | undefined;
}

/** The OTLP exporter's own options (src/metrics/otlp-config.ts), taken as validated. */
export type OtlpConfig = import('../../metrics/otlp-config.js').OtlpConfig;
export type { OtlpProtocol } from '../../metrics/otlp-config.js';

export interface SecurityConfig {
  signing: SigningConfig;
  /** CIDR networks allowed to send announcements; empty means any. */
  allowSources: string[];
  /** Accept only sources on a network of the receiving interface. */
  onLinkOnly: boolean;
  rateLimit: {
    /** Datagrams per second per source address (0: off). */
    perSource: number;
    /** Datagrams per second for the whole listener (0: off). */
    global: number;
    /** Sources tracked at most by the per-source limiter. */
    maxSources: number;
  };
  /** Identical datagrams from one source within this window are dropped (0: off). */
  duplicateWindowMs: number;
}

export interface SigningConfig {
  mode: 'off' | 'verify-if-signed' | 'required';
  /** Keys accepted when verifying; the first one signs. Read from files, at least 32 bytes each. */
  keys: { id: string; file: string; key: Buffer }[];
  /** Announcements whose signed timestamp is further than this from now are rejected as replays. */
  replayWindowMs: number;
}

export interface ListenerConfig {
  /** Unique; default `group:port`. Used as the `listener` label. */
  name: string;
  group: string;
  port: number;
  /** Interface names or addresses, or 'all'; undefined: the kernel's choice (as the original). */
  interfaces: string[] | 'all' | undefined;
  /** Largest datagram accepted, bytes (default 1400). */
  maxDatagramBytes: number;
  receiveBufferBytes: number;
  /** Datagrams read ahead of the receive path at most (0: none). */
  receiveQueueDatagrams: number;
  serviceTimeoutMs: number;
  retentionMs: number;
  maxServices: number;
  /** Announcement bytes kept at most (default 64 MiB). */
  maxRegistryBytes?: number;
  /** Substring a service's type must contain to be tracked (as the widget's filter); '' tracks all. */
  typeFilter: string;
  /** Whether `ttl`, `seq`, `timestamp`, `goodbye` and `metrics_port` carry their meaning (default true). */
  extensions: boolean;
}

export interface PublisherConfig {
  /** Unique; default `group:port:<index>`. Used as the `publisher` label. */
  name: string;
  group: string;
  port: number;
  /** Interface names or addresses, or 'all'; undefined: the kernel's choice. `interface: X` means [X]. */
  interfaces: string[] | 'all' | undefined;
  ttl: number;
  intervalMs: number;
  /** The announcement: an object is sent as JSON (with seq/timestamp added), a string as it is. */
  message: string | Record<string, unknown>;
  /** Receive our own announcements on this host (IP_MULTICAST_LOOP, default true). */
  loopback: boolean;
  /** Announced validity (`ttl` field), ms; undefined leaves it to the listeners. */
  announceTtlMs: number | undefined;
  /** Sign announcements with the first signing key (default: true when signing keys exist). */
  sign: boolean;
}
