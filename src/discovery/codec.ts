/**
 * The wire format: one UTF-8 JSON object per datagram, as py-vault-multicast sends it, plus optional
 * extension keys (`ttl`, `seq`, `goodbye`, `metrics_port`, `timestamp`) that the original treats as plain data.
 * docs/protocol.md describes it. Decoding runs once per received datagram, so it is one UTF-8 decode, one
 * JSON.parse and a few typeof checks; exceptions happen only on the rejection paths.
 */
import { Buffer } from 'node:buffer';
import { formatAddr, type HostPort, parseAddrString, parseHost, parsePort } from './address.js';
import type { DropReason } from './drop-reasons.js';
import type { IgnoredField } from './ignored-fields.js';
import type { DecodeOptions, DecodeResult } from './types.js';

/**
 * Deepest nesting of objects and arrays accepted. JSON.parse takes far deeper documents, but a recursive
 * walk (a logger, JSON.stringify, a consumer's callback) may then overflow the stack on them.
 */
export const MAX_JSON_DEPTH = 32;
/** Longest `type`, `name` and `version`, in UTF-16 code units. */
export const MAX_TEXT_FIELD_LENGTH = 256;
/** Largest `ttl` honoured, seconds: a sender cannot pin a dead service in every listener for longer. */
export const MAX_ANNOUNCE_TTL_SECONDS = 3600;

/** Extension keys an encoder adds to an announcement (all optional; the original ignores them). */
export interface AnnouncementExtensions {
  /** Sequence number, a non-negative integer that grows by one per announcement. */
  seq?: number;
  /** Sending time, Unix seconds (a float, like Python's `time.time()`). */
  timestamp?: number;
  /** Seconds the announcement stays valid. */
  ttl?: number;
  /** The service is leaving: listeners mark it gone at once. */
  goodbye?: boolean;
}

// One decoder for the process: `fatal` makes malformed UTF-8 an error instead of U+FFFD replacements.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/** A value for a rejection detail: JSON-quoted (so control characters are escaped) and cut short. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t}`;
}

/**
 * True when the JSON text nests objects/arrays deeper than `limit`. Counting opening brackets first is
 * cheap (a few native indexOf calls) and settles every ordinary announcement; only text with more than
 * `limit` of them gets the exact scan that skips brackets inside strings.
 */
function nestsDeeperThan(text: string, limit: number): boolean {
  if (text.length <= 2 * limit) return false;
  let opens = 0;
  for (let i = text.indexOf('{'); i >= 0 && opens <= limit; i = text.indexOf('{', i + 1)) opens++;
  for (let i = text.indexOf('['); i >= 0 && opens <= limit; i = text.indexOf('[', i + 1)) opens++;
  if (opens <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Decodes one datagram. Never throws: returns the announcement, or the reason it was rejected and a short
 * human-readable detail. The checks run in a fixed order (size, UTF-8, nesting, JSON, shape, then the
 * fields), each on what the previous one proved, so a datagram always gets the same single reason.
 */
export function decodeAnnouncement(bytes: Uint8Array, opts: DecodeOptions): DecodeResult {
  const size = bytes.length;
  if (size === 0) return fail('empty', 'zero-length datagram');
  if (size > opts.maxBytes) return fail('oversize', `${size} bytes, limit ${opts.maxBytes}`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('not_utf8', `${size} bytes are not valid UTF-8`);
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    return fail('too_deep', `objects/arrays nested deeper than ${MAX_JSON_DEPTH}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('not_json', err instanceof Error ? err.message : 'invalid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_object', `top level is ${kind(value)}, expected an object`);
  }
  return announcementFromObject(value as Record<string, unknown>, opts);
}

const NO_FIELDS: readonly IgnoredField[] = Object.freeze([]);

/**
 * A value shown as text: a string as sent, a number or boolean as its JSON text (the original's widget shows
 * `"name": 42` as 42). Objects, arrays and null are not text.
 */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The text of `value` for an opaque address: as sent for a string, its JSON text for anything else. */
function opaqueText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

function opaque(text: string): HostPort | DecodeResult {
  if (text.length > MAX_TEXT_FIELD_LENGTH) {
    return fail('bad_value', `address ${show(text)} is longer than ${MAX_TEXT_FIELD_LENGTH} characters`);
  }
  return { host: '', port: undefined, addr: text };
}

/**
 * The address of an announcement from whichever shape carries it: `host:port`, `[v6]:port`, a host, a
 * `[host, port]` pair, or `ip`/`port`. Any other value of `addr` (a URL, a path, a number) is an opaque address
 * kept as sent, as the original keeps it. Returns the host and port (host '' when opaque), the reason there is
 * none, or a field to ignore alongside.
 */
function addressOf(obj: Record<string, unknown>, ignore: IgnoredField[]): HostPort | DecodeResult {
  const addr = obj.addr;
  let hp: HostPort | undefined;
  if (typeof addr === 'string') {
    hp = parseAddrString(addr);
    if (hp === undefined) return opaque(addr);
  } else if (Array.isArray(addr)) {
    // A Python tuple (host, port) serialised by json.dumps.
    const host = addr.length === 1 || addr.length === 2 ? addr[0] : undefined;
    const h = typeof host === 'string' ? parseHost(host) : undefined;
    if (h === undefined) return opaque(opaqueText(addr));
    if (addr.length === 1) hp = { host: h, port: undefined };
    else {
      const port = parsePort(addr[1]);
      return port === undefined ? opaque(opaqueText(addr)) : { host: h, port };
    }
  } else if (addr !== undefined && addr !== null) {
    return opaque(opaqueText(addr));
  } else {
    // The original's own demo: "ip": ["127.0.0.1"], "port": "2004", and no addr.
    const ip = obj.ip;
    if (ip === undefined || ip === null) return notService('missing_addr', 'no addr and no ip', obj);
    const first = Array.isArray(ip) ? ip[0] : ip;
    const h = typeof first === 'string' ? parseHost(first) : undefined;
    if (h === undefined) return opaque(opaqueText(ip));
    hp = { host: h, port: undefined };
  }
  // An address without a port takes the separate `port` field when there is one.
  const portField = obj.port;
  if (hp.port === undefined && portField !== undefined && portField !== null) {
    const port = parsePort(portField);
    if (port === undefined) ignore.push('port');
    else hp = { host: hp.host, port };
  }
  return hp;
}

/**
 * `name` or `version`: its text (at most MAX_TEXT_FIELD_LENGTH), undefined when absent or ignored, or null when
 * too long (a safety drop).
 */
function textField(
  value: unknown,
  field: 'name' | 'version',
  ignore: IgnoredField[],
): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  const text = asText(value);
  if (text === undefined) ignore.push(field);
  else if (text.length > MAX_TEXT_FIELD_LENGTH) return null;
  return text;
}

/**
 * One extension's value: absent (undefined or null) is absent; an unusable value is ignored and noted. Callers
 * pass `obj.key` rather than the key, because a named property load is measurably cheaper per datagram.
 */
function extension<T>(
  value: unknown,
  field: IgnoredField,
  read: (v: unknown) => T | undefined,
  ignore: IgnoredField[],
): T | undefined {
  if (value === undefined || value === null) return undefined;
  const usable = read(value);
  if (usable === undefined) ignore.push(field);
  return usable;
}

const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const positiveSeconds = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, MAX_ANNOUNCE_TTL_SECONDS) : undefined;
const sequence = (v: unknown) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
const flag = (v: unknown) => (typeof v === 'boolean' ? v : undefined);

/**
 * Validates and normalises an already parsed JSON object (what `decodeAnnouncement` does after JSON.parse).
 * The object itself becomes the announcement's `data`. JSON.parse defines every key as an own data
 * property, so a `__proto__` key is plain data and never a prototype; the prototype is left as it is because
 * changing it costs about a fifth of the decode time, on every datagram.
 *
 * As lenient as the original where the original is: a `type` (text, number or boolean) and an address of any
 * shape make a service; a field with an unusable value is listed in `ignored` and loses only its meaning. An
 * object without `type` or address is not a service (`missing_type`, `missing_addr`; the result carries the
 * object so the listener can still deliver it). Only the safety limit on text length rejects (`bad_value`).
 */
export function announcementFromObject(
  obj: Record<string, unknown>,
  opts: Pick<DecodeOptions, 'extensions'> = {},
): DecodeResult {
  const type = asText(obj.type);
  if (type === undefined) {
    const t = obj.type;
    return notService('missing_type', t === undefined || t === null ? 'no type' : `type is ${kind(t)}`, obj);
  }
  if (type.length > MAX_TEXT_FIELD_LENGTH) {
    return fail('bad_value', `type is longer than ${MAX_TEXT_FIELD_LENGTH} characters`);
  }
  const ignore: IgnoredField[] = [];
  const where = addressOf(obj, ignore);
  if ('ok' in where) return where;

  const name = textField(obj.name, 'name', ignore);
  if (name === null) return fail('bad_value', `name is longer than ${MAX_TEXT_FIELD_LENGTH} characters`);
  const version = textField(obj.version, 'version', ignore);
  if (version === null)
    return fail('bad_value', `version is longer than ${MAX_TEXT_FIELD_LENGTH} characters`);
  // The extensions carry their meaning unless the listener leaves them to the application.
  const ext = opts.extensions !== false;

  return {
    ok: true,
    announcement: {
      type,
      name: name === undefined || name === '' ? type : name,
      addr: where.addr ?? formatAddr(where.host, where.port),
      host: where.host,
      port: where.port,
      version,
      timestamp: ext ? extension(obj.timestamp, 'timestamp', finite, ignore) : undefined,
      ttl: ext ? extension(obj.ttl, 'ttl', positiveSeconds, ignore) : undefined,
      seq: ext ? extension(obj.seq, 'seq', sequence, ignore) : undefined,
      goodbye: ext && extension(obj.goodbye, 'goodbye', flag, ignore) === true,
      metricsPort: ext ? extension(obj.metrics_port, 'metrics_port', parsePort, ignore) : undefined,
      data: obj,
      ignored: ignore.length === 0 ? NO_FIELDS : ignore,
    },
  };
}

function notService(reason: DropReason, detail: string, data: Record<string, unknown>): DecodeResult {
  return { ok: false, reason, detail, data };
}

function hasExtensions(ext: AnnouncementExtensions | undefined): ext is AnnouncementExtensions {
  return (
    ext !== undefined &&
    (ext.seq !== undefined || ext.timestamp !== undefined || ext.ttl !== undefined || ext.goodbye === true)
  );
}

function checkExtensions(ext: AnnouncementExtensions): void {
  if (ext.seq !== undefined && !(Number.isSafeInteger(ext.seq) && ext.seq >= 0)) {
    throw new RangeError(`seq must be a non-negative integer, got ${ext.seq}`);
  }
  if (ext.ttl !== undefined && !(Number.isFinite(ext.ttl) && ext.ttl > 0)) {
    throw new RangeError(`ttl must be a positive number of seconds, got ${ext.ttl}`);
  }
  if (ext.timestamp !== undefined && !Number.isFinite(ext.timestamp)) {
    throw new RangeError(`timestamp must be a finite number, got ${ext.timestamp}`);
  }
}

function withExtensions(obj: Record<string, unknown>, ext: AnnouncementExtensions): Record<string, unknown> {
  // Spreading defines own data properties, so a `__proto__` key of the message stays a key of the copy. A key
  // the application set itself (its own `timestamp`, say) is its data and is never overwritten.
  const copy: Record<string, unknown> = { ...obj };
  const set = (key: string, value: unknown) => {
    if (!Object.hasOwn(obj, key)) copy[key] = value;
  };
  if (ext.seq !== undefined) set('seq', ext.seq);
  if (ext.timestamp !== undefined) set('timestamp', ext.timestamp);
  if (ext.ttl !== undefined) set('ttl', ext.ttl);
  if (ext.goodbye === true) set('goodbye', true);
  return copy;
}

/**
 * The bytes to send for a message. A string goes out as its exact UTF-8 bytes, every time, as the original
 * sends it: extensions are never added to a string, even one holding a JSON object. An object message is
 * serialised with JSON.stringify, with the extensions set on a copy where the object does not already have
 * that key. Throws RangeError for invalid extension values and TypeError for objects JSON cannot represent.
 */
export function encodeAnnouncement(
  message: string | Record<string, unknown>,
  ext?: AnnouncementExtensions,
): Buffer {
  if (typeof message === 'string') return Buffer.from(message, 'utf8');
  const extended = hasExtensions(ext);
  if (extended) checkExtensions(ext);
  const json = JSON.stringify(extended ? withExtensions(message, ext) : message);
  if (typeof json !== 'string') throw new TypeError('message cannot be serialised as JSON');
  return Buffer.from(json, 'utf8');
}

/** Size in bytes of the datagram `encodeAnnouncement(message, ext)` produces. */
export function announcementSize(
  message: string | Record<string, unknown>,
  ext?: AnnouncementExtensions,
): number {
  return encodeAnnouncement(message, ext).length;
}
