/**
 * vault-multicast: multicast service discovery for Node.js, the TypeScript port of py-vault-multicast.
 * Importing this module loads only Node's standard library (test/integration/import-footprint.test.ts).
 */
export { type Clock, systemClock } from './discovery/clock.js';
export {
  type AnnouncementExtensions,
  announcementFromObject,
  announcementSize,
  decodeAnnouncement,
  encodeAnnouncement,
  MAX_ANNOUNCE_TTL_SECONDS,
  MAX_JSON_DEPTH,
  MAX_TEXT_FIELD_LENGTH,
} from './discovery/codec.js';
export * from './discovery/constants.js';
export {
  DROP_REASONS,
  type DropReason,
  ERROR_REASONS,
  emptyDropCounts,
  NOT_ERROR_REASONS,
} from './discovery/drop-reasons.js';
export { VaultMulticastError } from './discovery/errors.js';
export { emptyIgnoredCounts, IGNORED_FIELDS, type IgnoredField } from './discovery/ignored-fields.js';
export { VaultMultiListener } from './discovery/listener.js';
export type {
  ListenerCallback,
  ListenerEvents,
  ListenerMetrics,
  ListenerOptions,
} from './discovery/listener-types.js';
export type { InterfaceSpec } from './discovery/net/interfaces.js';
export {
  type PublisherEvents,
  type PublisherMessage,
  type PublisherMetrics,
  type PublisherOptions,
  VaultMultiPublisher,
} from './discovery/publisher.js';
export * from './discovery/registry.js';
export {
  createReceiveGuards,
  createSigner,
  type ReceiveGuardOptions,
  type SignerOptions,
} from './discovery/security/index.js';
export type {
  FindOptions,
  ServiceEvent,
  ServiceFilter,
  ServicesOptions,
} from './discovery/service-events.js';
export type * from './discovery/types.js';
export { instrumentListener, instrumentPublisher } from './metrics/otel-instruments.js';
