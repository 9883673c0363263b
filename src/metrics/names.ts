/**
 * Every metric the agent exports, in one place: the Prometheus collectors, the OpenTelemetry instruments,
 * the dashboards and docs/metrics.md are all built from this table, so a renamed metric breaks the build
 * rather than a dashboard. Names follow the Prometheus naming guide: one prefix, base units, `_total` on
 * counters only, timestamps instead of ages-since.
 */

export const PREFIX = 'vault_multicast_';

export type MetricType = 'counter' | 'gauge';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
}

const LISTENER = ['listener', 'group', 'port'] as const;
const PUBLISHER = ['publisher', 'group', 'port'] as const;
/** Labels of every per-service series. `type` and `service` are avoided: they clash with target labels. */
export const SERVICE_LABELS = [...LISTENER, 'service_type', 'service_name', 'address'] as const;

function def(name: string, type: MetricType, help: string, labels: readonly string[]): MetricDef {
  return { name: PREFIX + name, type, help, labels };
}

export const METRICS = {
  // listeners
  receivedPackets: def('received_packets_total', 'counter', 'Datagrams received by a listener.', LISTENER),
  receivedBytes: def(
    'received_bytes_total',
    'counter',
    'Bytes of datagrams received by a listener.',
    LISTENER,
  ),
  acceptedPackets: def(
    'accepted_packets_total',
    'counter',
    'Datagrams that passed admission and decoding and updated the registry.',
    LISTENER,
  ),
  droppedPackets: def(
    'dropped_packets_total',
    'counter',
    'Datagrams dropped before reaching the registry, by reason (see docs/metrics.md for the reasons).',
    [...LISTENER, 'reason'],
  ),
  ignoredFields: def(
    'ignored_fields_total',
    'counter',
    'Accepted announcements with a field whose value could not be used, by field; the field loses only its meaning (not an error).',
    [...LISTENER, 'field'],
  ),
  receiveErrors: def(
    'receive_errors_total',
    'counter',
    'Socket errors and callback failures of a listener, by reason (error code, or "callback").',
    [...LISTENER, 'reason'],
  ),
  kernelDrops: def(
    'kernel_dropped_packets_total',
    'counter',
    'Datagrams the kernel dropped for the listener socket because its receive buffer was full (/proc/net/udp).',
    LISTENER,
  ),
  receiveQueued: def(
    'receive_queued_packets_total',
    'counter',
    'Datagrams read ahead of the receive path and held in the listener (listeners[].receiveQueueDatagrams) while the socket held more than was handled; they are handled, not lost.',
    LISTENER,
  ),
  receiveBuffer: def(
    'receive_buffer_bytes',
    'gauge',
    'Effective receive buffer (SO_RCVBUF) of the listener socket, as granted by the kernel.',
    LISTENER,
  ),
  lastReceived: def(
    'last_received_timestamp_seconds',
    'gauge',
    'Unix time of the last datagram a listener received (0 before the first).',
    LISTENER,
  ),
  groupMembership: def(
    'group_membership',
    'gauge',
    '1 when the listener holds its group membership on the interface, 0 when joining failed.',
    [...LISTENER, 'interface'],
  ),
  activeServices: def('active_services', 'gauge', 'Services currently up on a listener.', LISTENER),
  services: def('services', 'gauge', 'Services tracked by a listener, by state (up, stale, gone).', [
    ...LISTENER,
    'state',
  ]),
  servicesDiscovered: def(
    'services_discovered_total',
    'counter',
    'Services that appeared (first announcement, or back after expiry).',
    LISTENER,
  ),
  servicesExpired: def(
    'services_expired_total',
    'counter',
    'Services that went down, by reason (expired: no announcement within the TTL; goodbye).',
    [...LISTENER, 'reason'],
  ),
  serviceConflicts: def(
    'service_conflicts_total',
    'counter',
    'Announcements claiming a service type and name already announced from another address.',
    LISTENER,
  ),
  servicesEvicted: def(
    'services_evicted_total',
    'counter',
    'Up services forgotten to make room in a full registry for a source holding less than its fair share.',
    LISTENER,
  ),
  announcementsCut: def(
    'announcements_cut_total',
    'counter',
    'Announcements whose extra keys were dropped to keep the registry under listeners[].maxRegistryBytes.',
    LISTENER,
  ),
  registryBytes: def(
    'registry_bytes',
    'gauge',
    'Announcement bytes a listener keeps (bounded by listeners[].maxRegistryBytes).',
    LISTENER,
  ),
  serviceSeriesDropped: def(
    'service_series_omitted',
    'gauge',
    'Services left out of the per-service series because the series cap was reached.',
    LISTENER,
  ),
  // per service
  serviceUp: def(
    'service_up',
    'gauge',
    '1 while the service announces itself, 0 once it is stale (kept for the retention window).',
    SERVICE_LABELS,
  ),
  serviceLastSeen: def(
    'service_last_seen_timestamp_seconds',
    'gauge',
    'Unix time of the last announcement received from the service.',
    SERVICE_LABELS,
  ),
  serviceInfo: def('service_info', 'gauge', 'Always 1; carries the announced version as a label.', [
    ...SERVICE_LABELS,
    'version',
  ]),
  serviceAge: def(
    'service_announcement_age_seconds',
    'gauge',
    "Receive time minus the sender's timestamp of the last announcement (clock skew plus delay).",
    SERVICE_LABELS,
  ),
  serviceLost: def(
    'service_lost_announcements_total',
    'counter',
    'Announcements missed, from gaps in the sequence numbers the service sends.',
    SERVICE_LABELS,
  ),
  // publishers
  sentPackets: def('sent_packets_total', 'counter', 'Announcements sent by a publisher.', PUBLISHER),
  sentBytes: def('sent_bytes_total', 'counter', 'Bytes of announcements sent by a publisher.', PUBLISHER),
  sendErrors: def('send_errors_total', 'counter', 'Failed sends of a publisher, by error code.', [
    ...PUBLISHER,
    'reason',
  ]),
  lastSent: def(
    'last_sent_timestamp_seconds',
    'gauge',
    'Unix time of the last successful send of a publisher (0 before the first).',
    PUBLISHER,
  ),
  // agent
  buildInfo: def(
    'build_info',
    'gauge',
    'Always 1; the agent version, the source revision it was built from and the Node.js version as labels.',
    ['version', 'revision', 'nodejs_version'],
  ),
  startTime: def(
    'start_time_seconds',
    'gauge',
    'Unix time the agent started; alert rules compare it with when a service was last exported, to tell an agent restart from a service that left.',
    [],
  ),
  configReloadSuccessful: def(
    'config_last_reload_successful',
    'gauge',
    '1 when the last configuration reload succeeded (or none was tried), 0 when it failed.',
    [],
  ),
  configReloadTimestamp: def(
    'config_last_reload_success_timestamp_seconds',
    'gauge',
    'Unix time of the last successful configuration load.',
    [],
  ),
  httpRejected: def(
    'http_rejected_total',
    'counter',
    'HTTP connections and requests refused by a hardening limit, by reason (see docs/security.md).',
    ['reason'],
  ),
  sdTargetsWithheld: def(
    'sd_targets_withheld',
    'gauge',
    'Services whose metrics_port target /api/v1/sd leaves out (announced host not the sender, or loopback/link-local).',
    [],
  ),
  configReloads: def(
    'config_reloads_total',
    'counter',
    'Configuration reloads, by result (success, failure).',
    ['result'],
  ),
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;
