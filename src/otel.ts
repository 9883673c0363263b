/**
 * OpenTelemetry instruments for a listener or publisher, on a Meter the application passes in. Only types come
 * from @opentelemetry/api, so the library keeps loading nothing but Node's standard library.
 * (Stub: filled in by the metrics work.)
 */
import type { Meter } from '@opentelemetry/api';
import type { VaultMultiListener } from './listener.js';
import type { VaultMultiPublisher } from './publisher.js';

/** Registers observable instruments that read the listener's state at collection time. */
export function instrumentListener(_meter: Meter, _listener: VaultMultiListener): void {}

/** Registers observable instruments that read the publisher's state at collection time. */
export function instrumentPublisher(_meter: Meter, _publisher: VaultMultiPublisher): void {}
