/**
 * vault-multicast: multicast service discovery for Node.js, the TypeScript port of py-vault-multicast.
 * Importing this module loads only Node's standard library (test/integration/import-footprint.test.ts).
 */
export { type Clock, systemClock } from './clock.js';
export {
  type AnnouncementExtensions,
  announcementFromObject,
  announcementSize,
  decodeAnnouncement,
  encodeAnnouncement,
  MAX_ANNOUNCE_TTL_SECONDS,
  MAX_JSON_DEPTH,
  MAX_TEXT_FIELD_LENGTH,
} from './codec.js';
export * from './constants.js';
export {
  DROP_REASONS,
  type DropReason,
  ERROR_REASONS,
  emptyDropCounts,
  NOT_ERROR_REASONS,
} from './drop-reasons.js';
export { VaultMulticastError } from './errors.js';
export { emptyIgnoredCounts, IGNORED_FIELDS, type IgnoredField } from './ignored-fields.js';
export {
  type ListenerCallback,
  type ListenerEvents,
  type ListenerMetrics,
  type ListenerOptions,
  VaultMultiListener,
} from './listener.js';
export type { InterfaceSpec } from './net/interfaces.js';
export { instrumentListener, instrumentPublisher } from './otel.js';
export {
  type PublisherEvents,
  type PublisherMessage,
  type PublisherMetrics,
  type PublisherOptions,
  VaultMultiPublisher,
} from './publisher.js';
export * from './registry.js';
export {
  createReceiveGuards,
  createSigner,
  type ReceiveGuardOptions,
  type SignerOptions,
} from './security/index.js';
export type { FindOptions, ServiceEvent, ServiceFilter, ServicesOptions } from './service-events.js';
export type * from './types.js';
