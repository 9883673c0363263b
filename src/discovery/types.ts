/**
 * Shapes shared by the library's parts (codec, registry, publisher, listener, admission guards) and by the
 * agent that reads them. Only types live here, so importing this file costs nothing at run time.
 */
import type { DropReason } from './drop-reasons.js';
import type { IgnoredField } from './ignored-fields.js';

/** Where a datagram came from (the part of dgram's RemoteInfo the library uses). */
export interface SourceInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  size: number;
}

/**
 * One decoded announcement. `data` is the JSON object exactly as sent (what the original handed to its
 * callback); the other fields are the normalised view every shape of the original's users maps onto.
 */
export interface Announcement {
  /** `type` as sent. */
  type: string;
  /** `name` as sent, or `type` when the sender gave none. */
  name: string;
  /**
   * Normalised `host:port` (`[v6]:port` for IPv6), or the host alone when no port was announced. An address of
   * any other form (a URL, a path, a number) is kept as sent, as an opaque string: the original shows those too.
   */
  addr: string;
  /** The host of a `host:port` address; '' when the address is opaque. */
  host: string;
  port: number | undefined;
  version: string | undefined;
  /** The sender's `timestamp`, Unix seconds (whether it is the sending time is the registry's call). */
  timestamp: number | undefined;
  /** Extension: seconds this announcement stays valid (`ttl`); undefined means the listener's timeout. */
  ttl: number | undefined;
  /** Extension: the sender's sequence number (`seq`), to count lost announcements. */
  seq: number | undefined;
  /** Extension: `goodbye: true` — the service is leaving now. */
  goodbye: boolean;
  /** Extension: `metrics_port` — the port of the service's Prometheus endpoint on `host`. */
  metricsPort: number | undefined;
  /**
   * The whole JSON object, keys unknown to this library included, as JSON.parse made it: every key is an own
   * data property (`__proto__` too, never a prototype). Test unknown keys with `Object.hasOwn`.
   */
  data: Record<string, unknown>;
  /** Fields whose value could not be used: the service is accepted and the field keeps no meaning here. */
  ignored: readonly IgnoredField[];
}

export type DecodeResult =
  | { ok: true; announcement: Announcement }
  | {
      ok: false;
      reason: DropReason;
      detail: string;
      /**
       * A JSON object that is not a service (reasons `missing_type` and `missing_addr`): the original delivers
       * it to its callback, and so does the listener.
       */
      data?: Record<string, unknown>;
    };

export interface DecodeOptions {
  /** Largest datagram accepted, in bytes. */
  maxBytes: number;
  /**
   * Whether `ttl`, `seq`, `timestamp`, `goodbye` and `metrics_port` carry this library's meaning (default true).
   * False for applications that use those keys for their own purposes: they stay plain data.
   */
  extensions?: boolean;
}

/** A service's state in a registry. `stale`: no announcement within its TTL; `gone`: it said goodbye. */
export type ServiceState = 'up' | 'stale' | 'gone';

/** What a registry knows about one service (type + address). Times: wall ms for people, mono ms for expiry. */
export interface ServiceRecord {
  /** `type` + NUL + `addr`: unique within a registry. */
  readonly key: string;
  type: string;
  name: string;
  addr: string;
  host: string;
  port: number | undefined;
  version: string | undefined;
  metricsPort: number | undefined;
  state: ServiceState;
  /** Source address of the last announcement. */
  source: string;
  firstSeenWallMs: number;
  lastSeenWallMs: number;
  lastSeenMonoMs: number;
  /** Monotonic ms at which the service turns stale unless announced again. */
  expiresAtMonoMs: number;
  /** Monotonic ms at which a stale or gone service is forgotten (undefined while up). */
  forgetAtMonoMs: number | undefined;
  /** Validity of the last announcement, ms. */
  ttlMs: number;
  /** Announcements received from this service. */
  packets: number;
  /** Announcements missed, from gaps in `seq`. */
  lost: number;
  lastSeq: number | undefined;
  /** The last announcement's `timestamp` as sent, whether or not it reads as the sending time. */
  timestamp?: number | undefined;
  /**
   * Receive time minus the sender's timestamp, seconds, of the last announcement: only while the timestamp
   * behaves like a sending time (src/discovery/sending-time.ts), undefined otherwise.
   */
  ageSeconds: number | undefined;
  /** The last announcement's JSON object. */
  data: Record<string, unknown>;
  /** True when `data` lost its extra keys to keep the registry under its byte bound (`maxBytes`). */
  cut?: boolean | undefined;
}

export type DownReason = 'expired' | 'goodbye';

export interface ServiceConflict {
  type: string;
  name: string;
  /** The address already known under this type and name. */
  existingAddr: string;
  /** The new address that claims the same type and name. */
  addr: string;
  wallMs: number;
}

/**
 * A check run on the raw bytes before decoding (source filter, rate limits, duplicate suppression,
 * signature). Returns the drop reason, or undefined to let the datagram through. Must not throw and must
 * not allocate more than a bounded amount of state.
 */
export interface ReceiveGuard {
  readonly name: string;
  check(bytes: Buffer, source: SourceInfo, nowMonoMs: number): DropReason | undefined;
}

/** Turns the bytes of an announcement into the bytes to send (e.g. appends a signature). */
export interface AnnouncementSigner {
  sign(bytes: Buffer): Buffer;
}

/** A socket-level problem. It is counted and retried; it never throws out of the library. */
export interface SocketProblem {
  /** What was being done: bind, join, leave, send, setInterface, receive, bufferSize, or a timer's work. */
  operation:
    | 'bind'
    | 'join'
    | 'leave'
    | 'send'
    | 'setInterface'
    | 'receive'
    | 'bufferSize'
    | 'sweep'
    | 'reconcile';
  /** Node's error code (EADDRINUSE, ENODEV, ENOBUFS, ...), or 'UNKNOWN'. */
  code: string;
  message: string;
  interface: string | undefined;
  /** Milliseconds until the next attempt, when one is scheduled. */
  retryInMs: number | undefined;
}

/** One group membership of a listener on one interface. */
export interface MembershipStatus {
  /** The interface as configured (name or address), or 'default' for the kernel's choice. */
  interface: string;
  /** The local address used for the join (IPv4), or the interface name (IPv6 scope). */
  address: string | undefined;
  joined: boolean;
  /** Error code of the last failed join, if the membership is not in place. */
  error: string | undefined;
}

/** Snapshot keys of the original (`get_metrics()`), then this library's additions. */
export interface MetricsSnapshot {
  packets_sent: number;
  packets_received: number;
  bytes_sent: number;
  bytes_received: number;
  errors: number;
  active_services: number;
  uptime_seconds: number;
  packets_per_second: number;
}

/**
 * Lifetime totals of a listener. They only grow: `resetMetrics()` changes what `getMetrics()` reports, never
 * these, so Prometheus counters read from them stay monotonic. Plain numbers, bumped on the receive path and
 * read by exporters at scrape time.
 */
export interface ListenerStats {
  packetsReceived: number;
  bytesReceived: number;
  /** Datagrams that passed admission and decoding and reached the registry. */
  accepted: number;
  dropped: Record<DropReason, number>;
  /** Accepted announcements with a field whose value could not be used, by field (not errors). */
  ignoredFields: Record<IgnoredField, number>;
  /** Socket errors by error code. */
  socketErrors: Record<string, number>;
  /** Callback or event-handler exceptions. */
  callbackErrors: number;
  /** Wall ms of the last datagram received, 0 before the first. */
  lastReceivedWallMs: number;
}

/** Lifetime totals of a registry. */
export interface RegistryStats {
  /** Services that came up: new ones, and known ones back from stale or gone. */
  discovered: number;
  /** Services that went stale (no announcement within the TTL). */
  expired: number;
  /** Services that said goodbye. */
  goodbyes: number;
  /** Announcements claiming a (type, name) already held by another address. */
  conflicts: number;
  /** New services refused because the registry was full. */
  refused: number;
}

/** Lifetime totals of a publisher. */
export interface PublisherStats {
  packetsSent: number;
  bytesSent: number;
  /** Failed sends by error code. */
  sendErrors: Record<string, number>;
  /** Wall ms of the last successful send, 0 before the first. */
  lastSentWallMs: number;
}
