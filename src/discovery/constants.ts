/**
 * Defaults of the Python original (py-vault-multicast 2.1.0), kept under the same names so that code ported
 * from it reads the same. Where this library adds a setting, its default follows the original's behaviour or,
 * where the original had none, the discovery widget's.
 */
export const DEFAULT_MULTICAST_GROUP = '224.1.1.1';
export const DEFAULT_PORT = 5004;
export const DEFAULT_TTL = 2;
/** Seconds between announcements (the original calls it `timeout`). */
export const DEFAULT_TIMEOUT = 2.0;
/** Largest datagram the listener accepts, in bytes (the original's `recvfrom(1400)`). */
export const DEFAULT_BUFFER_SIZE = 1400;
/** Seconds without an announcement before a service counts as stale (the widget's 30 s). */
export const SERVICE_TIMEOUT_SECONDS = 30;
/** The original publisher's message when none is given. */
export const DEFAULT_MESSAGE = 'there is nothing to see';

/** Seconds an expired or departed service stays visible (marked down) before it is forgotten. */
export const DEFAULT_RETENTION_SECONDS = 600;
/** Services one registry tracks at most; further new services are dropped and counted. */
export const DEFAULT_MAX_SERVICES = 10_000;
/**
 * Announcement bytes a registry keeps at most (64 MiB): 10,000 services of 6.7 KB whole. Beyond it the largest
 * announcements lose their extra keys, so 10,000 datagrams of 65 KB cost ~64 MiB, not 650 MB.
 */
export const DEFAULT_MAX_REGISTRY_BYTES = 64 * 1024 * 1024;
/** SO_RCVBUF asked for, in bytes: enough for a burst of ~100k announcements/s (the kernel may cap it). */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * Datagrams a listener reads ahead of its receive path at most (and 16 MiB of them): 0.3 s at 100,000/s,
 * three times what a 4 MiB kernel buffer holds, a few MiB of memory at the default announcement size.
 */
export const DEFAULT_RECEIVE_QUEUE_DATAGRAMS = 32_768;
/** Fraction of the interval by which each announcement is moved at random, so that fleets don't synchronise. */
export const DEFAULT_JITTER = 0.1;
/** Milliseconds between membership reconcile passes (re-join after interface changes). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 5_000;
