/**
 * The user-facing YAML shape as zod schemas. Every object is strict (an unknown key is a mistake, usually a
 * typo, and silently ignoring it would run a different configuration than the one the user wrote); every
 * default is filled in and every duration becomes milliseconds. Secret files are only named here; load.ts
 * reads them once the shape is valid.
 *
 * Rules that involve more than one value (unique names, signing keys present, auth required off loopback)
 * run on the whole document after the shape is valid, and report their problems with key paths like the
 * shape errors, so that the user sees one list.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_REGISTRY_BYTES,
  DEFAULT_MAX_SERVICES,
  DEFAULT_MESSAGE,
  DEFAULT_RECEIVE_BUFFER_BYTES,
  DEFAULT_RECEIVE_QUEUE_DATAGRAMS,
  DEFAULT_RETENTION_SECONDS,
  DEFAULT_TTL,
  SERVICE_TIMEOUT_SECONDS,
} from '../../discovery/constants.js';
import { MAX_KEY_ID_LENGTH } from '../../discovery/security/signing.js';
import { parseScryptHash } from '../password-hash.js';
import {
  isLinkScopedV6Group,
  isLoopbackHost,
  multicastGroupProblem,
  parseCidr,
  parseListen,
} from './addresses.js';
import { describe, parseDuration } from './duration.js';
import { announcementWireBytes } from './message-size.js';

/** Open HTTP connections at most: far below the usual 1,024 descriptors, with room for 64 event streams. */
export const DEFAULT_MAX_CONNECTIONS = 512;

/**
 * Longest duration that drives a timer: Node turns a delay above 2^31-1 ms into 1 ms (TimeoutOverflowWarning),
 * so `interval: 3000000` would send a thousand datagrams a second instead of one a month.
 */
export const MAX_TIMER_MS = 24 * 86_400_000;
const MAX_TIMER_TEXT = '24d';

function duration(minMs = 0, minText = '0s', maxMs = Number.POSITIVE_INFINITY, maxText = '') {
  return z.unknown().transform((value, ctx): number => {
    const parsed = parseDuration(value);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    if (parsed.ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${minText}, got ${String(value)}` });
      return z.NEVER;
    }
    if (parsed.ms > maxMs) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${maxText} (it drives a timer), got ${String(value)}`,
      });
      return z.NEVER;
    }
    return parsed.ms;
  });
}

/** A duration used as a timer's delay. */
function timerDuration(minMs: number, minText: string) {
  return duration(minMs, minText, MAX_TIMER_MS, MAX_TIMER_TEXT);
}

const group = z.string().superRefine((value, ctx) => {
  const problem = multicastGroupProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const port = z.int().min(1).max(65535);

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s/\p{Cc}]+$/u, { error: 'a name may not contain spaces, slashes or control characters' });

/**
 * Why `item` can't name an interface: Linux names are at most 15 bytes without spaces or slashes (IFNAMSIZ);
 * an address (IPv6 with an optional %zone) names the interface that holds it. Commas are refused because the
 * library reads "a,b" as two interfaces.
 */
function interfaceProblem(item: unknown): string | undefined {
  if (typeof item !== 'string') return `expected an interface name or address, got ${describe(item)}`;
  if (item === 'all') return '"all" stands alone: write interfaces: all';
  if (isIP(item.split('%')[0] ?? '') !== 0) return undefined;
  if (/^[^\s/,:]{1,15}$/.test(item)) return undefined;
  return `${JSON.stringify(item)} is neither an interface name (1 to 15 characters, no spaces, slashes, commas or colons) nor an IP address`;
}

const interfaceList = z.unknown().transform((value, ctx): string[] | 'all' => {
  if (value === 'all') return 'all';
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an interface name or address, a list of them, or "all"; got ${describe(value)}`,
    });
    return z.NEVER;
  }
  if (list.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message:
        'empty list: name at least one interface, write "all", or leave the key out for the default route',
    });
  }
  const seen = new Set<unknown>();
  list.forEach((item, i) => {
    const problem =
      interfaceProblem(item) ?? (seen.has(item) ? `interface ${item} is listed twice` : undefined);
    if (problem)
      ctx.addIssue({ code: 'custom', path: typeof value === 'string' ? [] : [i], message: problem });
    seen.add(item);
  });
  return list as string[];
});

/** IPv6 link-scoped groups need one interface named; an address or "all" leaves the link ambiguous. */
function checkLinkScope(
  ctx: z.RefinementCtx,
  groupAddr: string,
  interfaces: string[] | 'all' | undefined,
  key: string,
): void {
  if (!isLinkScopedV6Group(groupAddr)) return;
  const one = Array.isArray(interfaces) && interfaces.length === 1 ? interfaces[0] : undefined;
  if (one === undefined || /^[\d.]+$/.test(one)) {
    ctx.addIssue({
      code: 'custom',
      path: interfaces === undefined ? ['group'] : [key],
      message: `IPv6 link-scope group ${groupAddr} needs exactly one interface name (e.g. ${key === 'interface' ? 'interface: eth0' : 'interfaces: [eth0]'})`,
    });
  }
}

const listener = z
  .strictObject({
    name: name.optional(),
    group,
    port,
    interfaces: interfaceList.optional(),
    maxDatagramBytes: z.int().min(1).max(65507).default(DEFAULT_BUFFER_SIZE),
    receiveBufferBytes: z.int().min(0).max(2_147_483_647).default(DEFAULT_RECEIVE_BUFFER_BYTES),
    receiveQueueDatagrams: z.int().min(0).max(1_048_576).default(DEFAULT_RECEIVE_QUEUE_DATAGRAMS),
    serviceTimeout: duration(1, '1ms').default(SERVICE_TIMEOUT_SECONDS * 1000),
    retention: duration().default(DEFAULT_RETENTION_SECONDS * 1000),
    maxServices: z.int().min(1).default(DEFAULT_MAX_SERVICES),
    maxRegistryBytes: z.int().min(65_536).default(DEFAULT_MAX_REGISTRY_BYTES),
    typeFilter: z.string().default(''),
    extensions: z.boolean().default(true),
  })
  .superRefine((l, ctx) => checkLinkScope(ctx, l.group, l.interfaces, 'interfaces'));

const message = z.union([z.string(), z.record(z.string(), z.unknown())], {
  error: (issue) => `expected a string or a mapping, got ${describe(issue.input)}`,
});

const publisher = z
  .strictObject({
    name: name.optional(),
    group,
    port,
    interface: interfaceList.optional(),
    interfaces: interfaceList.optional(),
    ttl: z.int().min(0).max(255).default(DEFAULT_TTL),
    interval: timerDuration(100, '100ms').default(2000),
    message: message.default(DEFAULT_MESSAGE),
    loopback: z.boolean().default(true),
    announceTtl: duration(1, '1ms').optional(),
    sign: z.boolean().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.interface !== undefined && p.interfaces !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['interfaces'],
        message: 'give either interface or interfaces, not both',
      });
      return;
    }
    const key = p.interface !== undefined ? 'interface' : 'interfaces';
    checkLinkScope(ctx, p.group, p.interface ?? p.interfaces, key);
  });

const listen = z.string().superRefine((value, ctx) => {
  const parsed = parseListen(value);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
});

const filePath = z.string().min(1, { error: 'file path is empty' });

/** An origin exactly as a browser names it (`https://app.example:8443`): what frame-ancestors and postMessage compare. */
const origin = z.string().superRefine((value, ctx) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== value)
    ctx.addIssue({
      code: 'custom',
      message: `'${value}' is not an origin: write scheme://host[:port] with nothing after it, as in https://app.example:8443${parsed && /^https?:$/.test(parsed.protocol) ? ` (here: ${parsed.origin})` : ''}`,
    });
});

const http = z.strictObject({
  listen: listen.default('127.0.0.1:9477'),
  tls: z.strictObject({ certFile: filePath, keyFile: filePath }).optional(),
  auth: z
    .strictObject({
      tokenFile: filePath.optional(),
      basic: z.strictObject({ username: z.string().min(1), passwordFile: filePath }).optional(),
    })
    .refine((a) => a.tokenFile !== undefined || a.basic !== undefined, {
      error: 'auth needs tokenFile, basic, or both',
    })
    .optional(),
  basicAuthUsers: z
    .record(
      z.string().regex(/^[^:]+$/, { error: 'a basic-auth user name is not empty and has no colon' }),
      z.string().superRefine((value, ctx) => {
        const parsed = parseScryptHash(value);
        if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
      }),
    )
    .optional(),
  enableReload: z.boolean().default(false),
  enableAdmin: z.boolean().default(false),
  mutatingRateLimitPerMinute: z.int().min(1).default(10),
  maxConnections: z.int().min(8).max(65_536).default(DEFAULT_MAX_CONNECTIONS),
  allowedHosts: z
    .array(
      z.string().regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, { error: 'a host name or address, no port' }),
    )
    .default([]),
  /** Origins that may show the page in a frame; Connect there posts the chosen service to the parent. */
  embedOrigins: z.array(origin).default([]),
});

const otlp = z.strictObject({
  endpoint: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  interval: timerDuration(1000, '1s').default(15_000),
  headers: z.record(z.string(), z.string()).default({}),
  protocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
});

const metrics = z.strictObject({
  maxServiceSeries: z.int().min(0).default(10_000),
  processMetrics: z.boolean().default(true),
  otlp: otlp.optional(),
});

// The signer's rule: the id travels in every signed announcement.
const keyId = z.string().regex(new RegExp(`^[A-Za-z0-9_-]{1,${MAX_KEY_ID_LENGTH}}$`), {
  error: `a key id is 1 to ${MAX_KEY_ID_LENGTH} letters, digits, '-' or '_'`,
});

const cidr = z.string().transform((value, ctx): string => {
  const parsed = parseCidr(value);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.cidr;
});

const security = z.strictObject({
  signing: z
    .strictObject({
      mode: z.enum(['off', 'verify-if-signed', 'required']).default('off'),
      keys: z.array(z.strictObject({ id: keyId, file: filePath })).default([]),
      replayWindow: duration(1000, '1s').default(30_000),
    })
    .prefault({}),
  allowSources: z.array(cidr).default([]),
  onLinkOnly: z.boolean().default(false),
  rateLimit: z
    .strictObject({
      perSource: z.number().min(0).default(0),
      global: z.number().min(0).default(0),
      maxSources: z.int().min(1).default(4096),
    })
    .prefault({}),
  duplicateWindow: duration().default(0),
});

export function defaultListenerName(g: string, p: number): string {
  return g.includes(':') ? `[${g}]:${p}` : `${g}:${p}`;
}

export function defaultPublisherName(g: string, p: number, index: number): string {
  return `${defaultListenerName(g, p)}:${index}`;
}

type Named = { name?: string | undefined; group: string; port: number };

function checkUniqueNames(
  ctx: z.RefinementCtx,
  list: 'listeners' | 'publishers',
  items: readonly Named[],
  nameOf: (item: Named, i: number) => string,
): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const n = nameOf(item, i);
    const earlier = first.get(n);
    if (earlier === undefined) {
      first.set(n, i);
      return;
    }
    const other = items[earlier]!;
    ctx.addIssue({
      code: 'custom',
      path: item.name === undefined ? [list, i] : [list, i, 'name'],
      message:
        item.name === undefined && other.name === undefined
          ? `default name "${n}" is also that of ${list}[${earlier}]; give each a distinct name`
          : `name "${n}" is already used by ${list}[${earlier}]; names must be unique`,
    });
  });
}

/** A section left empty (`http:` with every child commented out) reads as null; it means "all defaults". */
function section<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema);
}

export const configSchema = z
  .strictObject({
    http: section(http.prefault({})),
    log: section(
      z
        .strictObject({
          level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
          format: z.enum(['json', 'logfmt', 'pretty']).optional(),
        })
        .prefault({}),
    ),
    metrics: section(metrics.prefault({})),
    security: section(security.prefault({})),
    sd: section(z.strictObject({ allowedTargets: z.array(cidr).default([]) }).prefault({})),
    listeners: section(z.array(listener).default([])),
    publishers: section(z.array(publisher).default([])),
  })
  .superRefine((c, ctx) => {
    if (c.listeners.length === 0 && c.publishers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'nothing to run: add at least one listener or publisher',
      });
    }
    checkUniqueNames(ctx, 'listeners', c.listeners, (l) => l.name ?? defaultListenerName(l.group, l.port));
    checkUniqueNames(
      ctx,
      'publishers',
      c.publishers,
      (p, i) => p.name ?? defaultPublisherName(p.group, p.port, i),
    );

    const { signing } = c.security;
    if (signing.mode !== 'off' && signing.keys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['security', 'signing', 'mode'],
        message: `signing mode ${signing.mode} needs at least one key in security.signing.keys`,
      });
    }
    const ids = new Map<string, number>();
    signing.keys.forEach((k, i) => {
      const earlier = ids.get(k.id);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['security', 'signing', 'keys', i, 'id'],
          message: `key id "${k.id}" is already used by security.signing.keys[${earlier}]`,
        });
      } else ids.set(k.id, i);
    });
    c.publishers.forEach((p, i) => {
      if (p.sign === true && signing.keys.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['publishers', i, 'sign'],
          message: 'sign: true needs a key in security.signing.keys',
        });
      }
      const signer = (p.sign ?? true) ? signing.keys[0]?.id : undefined;
      let bytes: number;
      try {
        bytes = announcementWireBytes({ ...p, announceTtlMs: p.announceTtl }, signer);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['publishers', i, 'message'],
          message: `cannot be encoded: ${String(err)}`,
        });
        return;
      }
      if (bytes > DEFAULT_BUFFER_SIZE) {
        ctx.addIssue({
          code: 'custom',
          path: ['publishers', i, 'message'],
          message: `announcement would be ${bytes} bytes on the wire (with sequence number and timestamp${signer ? ' and signature' : ''}); listeners read at most ${DEFAULT_BUFFER_SIZE} bytes per datagram`,
        });
      }
    });

    const hostPort = parseListen(c.http.listen);
    const loopback = 'host' in hostPort && isLoopbackHost(hostPort.host);
    if (!loopback && c.http.auth === undefined) {
      for (const key of ['enableAdmin', 'enableReload'] as const) {
        if (!c.http[key]) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['http', key],
          message: `${key} on ${c.http.listen} would let anyone who reaches it change the agent: protect it with http.auth (tokenFile or basic) or listen on a loopback address such as 127.0.0.1`,
        });
      }
    }
  })
  .transform((c) => ({
    ...c,
    listeners: c.listeners.map((l) => ({
      name: l.name ?? defaultListenerName(l.group, l.port),
      group: l.group,
      port: l.port,
      interfaces: l.interfaces,
      maxDatagramBytes: l.maxDatagramBytes,
      receiveBufferBytes: l.receiveBufferBytes,
      receiveQueueDatagrams: l.receiveQueueDatagrams,
      serviceTimeoutMs: l.serviceTimeout,
      retentionMs: l.retention,
      maxServices: l.maxServices,
      maxRegistryBytes: l.maxRegistryBytes,
      typeFilter: l.typeFilter,
      extensions: l.extensions,
    })),
    publishers: c.publishers.map((p, i) => ({
      name: p.name ?? defaultPublisherName(p.group, p.port, i),
      group: p.group,
      port: p.port,
      interfaces: p.interface ?? p.interfaces,
      ttl: p.ttl,
      intervalMs: p.interval,
      message: p.message,
      loopback: p.loopback,
      announceTtlMs: p.announceTtl,
      sign: p.sign ?? c.security.signing.keys.length > 0,
    })),
  }));

/** The validated shape before secret files are read. */
export type ParsedConfig = z.output<typeof configSchema>;
