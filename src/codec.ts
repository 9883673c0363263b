/**
 * The wire format: one UTF-8 JSON object per datagram, as py-vault-multicast sends it, plus optional
 * extension keys (`ttl`, `seq`, `goodbye`, `metrics_port`, `timestamp`) that the original ignores.
 * docs/protocol.md describes it. Decoding runs once per received datagram, so it is one UTF-8 decode, one
 * JSON.parse and a few typeof checks; exceptions happen only on the rejection paths.
 */
import { Buffer } from 'node:buffer';
import { formatAddr, type HostPort, parseAddrString, parseHost, parsePort } from './address.js';
import type { DropReason } from './drop-reasons.js';
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
  return announcementFromObject(value as Record<string, unknown>);
}

/** The optional text fields: undefined when absent, the string, or null when the value is not usable. */
function optionalText(value: unknown): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.length <= MAX_TEXT_FIELD_LENGTH ? value : null;
  return null;
}

function optionalFinite(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The address of an announcement from whichever shape carries it. Returns the host and port, or a
 * DecodeResult describing why there is none.
 */
function addressOf(obj: Record<string, unknown>): HostPort | DecodeResult {
  const addr = obj.addr;
  let hp: HostPort | undefined;
  if (typeof addr === 'string') {
    hp = parseAddrString(addr);
    if (hp === undefined)
      return fail('bad_value', `addr ${show(addr)} is not host:port, [v6]:port or a host`);
  } else if (Array.isArray(addr)) {
    // A Python tuple (host, port) serialised by json.dumps.
    const host = addr.length === 1 || addr.length === 2 ? addr[0] : undefined;
    const h = typeof host === 'string' ? parseHost(host) : undefined;
    if (h === undefined) return fail('bad_value', `addr ${show(addr)} is not [host, port]`);
    if (addr.length === 1) return { host: h, port: undefined };
    const port = parsePort(addr[1]);
    if (port === undefined) return fail('bad_value', `addr ${show(addr)}: port is not 1..65535`);
    return { host: h, port };
  } else if (addr !== undefined && addr !== null) {
    return fail('bad_value', `addr is ${kind(addr)}, expected a string or [host, port]`);
  } else {
    // The original's own demo: "ip": ["127.0.0.1"], "port": "2004", and no addr.
    let ip = obj.ip;
    if (ip === undefined || ip === null) return fail('missing_addr', 'no addr and no ip');
    if (Array.isArray(ip)) {
      if (ip.length === 0) return fail('bad_value', 'ip is an empty list');
      ip = ip[0];
    }
    const h = typeof ip === 'string' ? parseHost(ip) : undefined;
    if (h === undefined) return fail('bad_value', `ip ${show(obj.ip)} is not a host`);
    hp = { host: h, port: undefined };
  }
  // An address without a port takes the separate `port` field when there is one.
  const portField = obj.port;
  if (hp.port === undefined && portField !== undefined && portField !== null) {
    const port = parsePort(portField);
    if (port === undefined) return fail('bad_value', `port ${show(portField)} is not 1..65535`);
    hp = { host: hp.host, port };
  }
  return hp;
}

/**
 * Validates and normalises an already parsed JSON object (what `decodeAnnouncement` does after JSON.parse).
 * The object itself becomes the announcement's `data`. JSON.parse defines every key as an own data
 * property, so a `__proto__` key is plain data and never a prototype; the prototype is left as it is because
 * changing it costs about a fifth of the decode time, on every datagram.
 */
export function announcementFromObject(obj: Record<string, unknown>): DecodeResult {
  const type = obj.type;
  if (type === undefined || type === null) return fail('missing_type', 'no type');
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TEXT_FIELD_LENGTH) {
    return fail('bad_value', `type must be a string of 1..${MAX_TEXT_FIELD_LENGTH} characters`);
  }
  const where = addressOf(obj);
  if ('ok' in where) return where;

  const name = optionalText(obj.name);
  if (name === null) return fail('bad_value', `name must be a string of at most ${MAX_TEXT_FIELD_LENGTH}`);
  let version: string | undefined | null;
  const v = obj.version;
  // Some senders write `"version": 2`: a number is harmless and kept as its decimal text.
  if (typeof v === 'number' && Number.isFinite(v)) version = String(v);
  else version = optionalText(v);
  if (version === null)
    return fail('bad_value', `version must be a string of at most ${MAX_TEXT_FIELD_LENGTH}`);
  const timestamp = optionalFinite(obj.timestamp);
  if (timestamp === null) return fail('bad_value', `timestamp ${show(obj.timestamp)} is not a number`);

  let ttl = optionalFinite(obj.ttl);
  if (ttl === null || (ttl !== undefined && ttl <= 0)) {
    return fail('bad_value', `ttl ${show(obj.ttl)} is not a positive number of seconds`);
  }
  if (ttl !== undefined && ttl > MAX_ANNOUNCE_TTL_SECONDS) ttl = MAX_ANNOUNCE_TTL_SECONDS;

  const seq = obj.seq;
  if (seq !== undefined && seq !== null && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) {
    return fail('bad_value', `seq ${show(seq)} is not a non-negative integer`);
  }
  const goodbye = obj.goodbye;
  if (goodbye !== undefined && goodbye !== null && typeof goodbye !== 'boolean') {
    return fail('bad_value', `goodbye ${show(goodbye)} is not true or false`);
  }
  const mp = obj.metrics_port;
  let metricsPort: number | undefined;
  if (mp !== undefined && mp !== null) {
    metricsPort = parsePort(mp);
    if (metricsPort === undefined) return fail('bad_value', `metrics_port ${show(mp)} is not 1..65535`);
  }

  return {
    ok: true,
    announcement: {
      type,
      name: name === undefined || name === '' ? type : name,
      addr: where.addr ?? formatAddr(where.host, where.port),
      host: where.host,
      port: where.port,
      version,
      timestamp,
      ttl,
      seq: seq === undefined || seq === null ? undefined : (seq as number),
      goodbye: goodbye === true,
      metricsPort,
      data: obj,
    },
  };
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
  // Spreading defines own data properties, so a `__proto__` key of the message stays a key of the copy.
  const copy: Record<string, unknown> = { ...obj };
  if (ext.seq !== undefined) copy.seq = ext.seq;
  if (ext.timestamp !== undefined) copy.timestamp = ext.timestamp;
  if (ext.ttl !== undefined) copy.ttl = ext.ttl;
  if (ext.goodbye === true) copy.goodbye = true;
  return copy;
}

// Publishers encode the same message string again and again with a new seq; parse it once.
let lastText: string | undefined;
let lastParsed: Record<string, unknown> | undefined;

function parseObjectText(text: string): Record<string, unknown> | undefined {
  if (text === lastText) return lastParsed;
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      parsed = value as Record<string, unknown>;
    }
  } catch {
    parsed = undefined;
  }
  lastText = text;
  lastParsed = parsed;
  return parsed;
}

/**
 * The bytes to send for a message. A string goes out as its exact UTF-8 bytes, as the original sends it,
 * unless extensions are given and the string is a JSON object: then the extensions are set on a copy of the
 * object and the copy is serialised. A string that is not a JSON object (the original's default
 * 'there is nothing to see') is always sent as is. An object message is serialised with JSON.stringify.
 * Throws RangeError for invalid extension values and TypeError for objects JSON cannot represent.
 */
export function encodeAnnouncement(
  message: string | Record<string, unknown>,
  ext?: AnnouncementExtensions,
): Buffer {
  const extended = hasExtensions(ext);
  if (extended) checkExtensions(ext);
  if (typeof message === 'string') {
    if (!extended) return Buffer.from(message, 'utf8');
    const obj = parseObjectText(message);
    return Buffer.from(obj === undefined ? message : JSON.stringify(withExtensions(obj, ext)), 'utf8');
  }
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
