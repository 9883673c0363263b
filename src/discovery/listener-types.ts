/**
 * The listener's public shapes: its options, what reconfigure() may change, its events and getMetrics().
 * The class is src/discovery/listener.ts, which exports these too.
 */
import type { Meter } from '@opentelemetry/api';
import type { Clock } from './clock.js';
import type { DropReason } from './drop-reasons.js';
import type { IgnoredField } from './ignored-fields.js';
import type { InterfaceSpec } from './net/interfaces.js';
import type { ReceiveQueueLimits } from './net/receive-queue.js';
import type {
  Announcement,
  DownReason,
  MembershipStatus,
  MetricsSnapshot,
  ReceiveGuard,
  ServiceConflict,
  ServiceRecord,
  SocketProblem,
} from './types.js';

/**
 * The original's callback: every JSON object received, the sender's address. `announcement` is the
 * normalised view when the object is a service (a `type` and an address), undefined when it is not.
 */
export type ListenerCallback = (
  data: Record<string, unknown>,
  announcement: Announcement | undefined,
  source: string,
) => void;

export interface ListenerOptions {
  group?: string;
  port?: number;
  /** Interface names or addresses, a comma-separated list, 'all', or undefined for the kernel's choice. */
  interfaces?: InterfaceSpec;
  /** The original's socket timeout in seconds; kept for API compatibility (this listener never polls). */
  timeout?: number;
  /** Largest datagram accepted, bytes (the original's recvfrom size). */
  bufferSize?: number;
  /** SO_RCVBUF to ask the kernel for, bytes. */
  receiveBufferSize?: number;
  /**
   * Datagrams held in process memory while the receive path falls behind the socket (a burst of new services,
   * a collection of the heap): at most 32,768 and 16 MiB by default, handled in 2 ms slices between reads.
   */
  receiveQueue?: ReceiveQueueLimits;
  /** Seconds without an announcement before a service turns stale. */
  serviceTimeout?: number;
  /** Seconds a stale or departed service stays listed before it is forgotten. */
  retention?: number;
  maxServices?: number;
  /** Announcement bytes the registry keeps at most; over it the largest lose their extra keys (default 64 MiB). */
  maxRegistryBytes?: number;
  /** Substring a service's `type` must contain (the widget's filter); '' accepts all. */
  typeFilter?: string;
  /**
   * Whether `ttl`, `seq`, `timestamp`, `goodbye` and `metrics_port` carry their meaning here (default true).
   * Set false when your application uses those keys for its own purposes: they then stay plain data.
   */
  extensions?: boolean;
  callback?: ListenerCallback;
  /** Admission checks run on the raw bytes before decoding, in order. */
  guards?: readonly ReceiveGuard[];
  reuseAddr?: boolean;
  /** Milliseconds between passes that re-resolve interfaces and restore lost memberships. */
  reconcileInterval?: number;
  clock?: Clock;
  meter?: Meter;
}

/**
 * What `reconfigure()` may change on a running listener. Absent keys keep their value; `interfaces` present
 * as undefined means the kernel's choice.
 */
export type ListenerSettings = Pick<
  ListenerOptions,
  | 'group'
  | 'port'
  | 'interfaces'
  | 'bufferSize'
  | 'receiveBufferSize'
  | 'receiveQueue'
  | 'serviceTimeout'
  | 'retention'
  | 'maxServices'
  | 'maxRegistryBytes'
  | 'typeFilter'
  | 'guards'
  | 'extensions'
>;

export interface ListenerEvents {
  /**
   * The original's `recv_signal`: every JSON object received (services and other objects alike), its
   * normalised view when it is a service (undefined otherwise), the sender's address.
   */
  message: [data: Record<string, unknown>, announcement: Announcement | undefined, source: string];
  up: [record: ServiceRecord];
  update: [record: ServiceRecord];
  down: [record: ServiceRecord, reason: DownReason];
  removed: [record: ServiceRecord];
  conflict: [conflict: ServiceConflict];
  /** A datagram that was not accepted. Emitted only while someone listens. */
  drop: [reason: DropReason, source: string, detail: string];
  /** A socket-level problem (never `error`, so that nobody listening cannot crash the process). */
  socketError: [problem: SocketProblem];
  warning: [message: string];
}

/** `getMetrics()`: the original's keys, then this library's additions (counts since the last reset). */
export interface ListenerMetrics extends MetricsSnapshot {
  accepted: number;
  dropped: Record<DropReason, number>;
  /** Accepted announcements with a field whose value could not be used, by field (not errors). */
  ignored_fields: Record<IgnoredField, number>;
  callback_errors: number;
  services: { up: number; stale: number; gone: number };
  discovered: number;
  expired: number;
  goodbyes: number;
  conflicts: number;
  refused: number;
  memberships: MembershipStatus[];
  receive_buffer_bytes: number | undefined;
  /** Unix seconds of the last datagram received, or null before the first. */
  last_received_at: number | null;
}
