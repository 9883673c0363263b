/**
 * HMAC-SHA-256 signed announcements (format in docs/protocol.md, "Signed announcements").
 *
 * A signed datagram is the announcement's JSON object with one more key, last:
 *   {...,"sig":"v1.<keyId>.<unixMillis>.<base64url MAC>"}
 * so the Python original, which ignores keys it does not know, still reads it. The MAC is
 *   HMAC-SHA-256(key, "vault-multicast/v1\n" + group + "\n" + port + "\n" + unixMillis + "\n" + body)
 * where body is the datagram with `,"sig":"…"` cut out. The group and port are in it, so an announcement
 * recorded on one group cannot be replayed into another; the time is in it, so it cannot be made younger.
 *
 * The verifier finds the signature by a bounded scan from the end of the raw bytes and checks it before any
 * JSON parsing: a forged datagram costs one HMAC and never reaches the decoder.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SocketAddress } from 'node:net';
import type { Clock } from '../clock.js';
import type { DropReason } from '../drop-reasons.js';
import { VaultMulticastError } from '../errors.js';
import type { AnnouncementSigner, ReceiveGuard, SourceInfo } from '../types.js';
import { ReplayCache } from './replay-cache.js';

export const SIGNATURE_CONTEXT = 'vault-multicast/v1';
export const SIGNATURE_VERSION = 'v1';
export const MIN_KEY_BYTES = 32;
export const MAX_KEY_ID_LENGTH = 64;
export const DEFAULT_REPLAY_WINDOW_MS = 30_000;
const KEY_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAC_BYTES = 32;
const MAC_CHARS = 43; // base64url of 32 bytes, unpadded
const MAX_MILLIS_DIGITS = 16;
/** Longest signature value: "v1." + id + "." + millis + "." + mac. */
const MAX_VALUE_LENGTH = 3 + MAX_KEY_ID_LENGTH + 1 + MAX_MILLIS_DIGITS + 1 + MAC_CHARS;

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const DOT = 0x2e;
/** `"sig":"` — the bytes between the separator and the signature value. */
const MARKER = Buffer.from('"sig":"', 'latin1');
const CLOSING = Buffer.from('}', 'latin1');

export type SigningMode = 'off' | 'verify-if-signed' | 'required';

export interface SigningKey {
  /** Letters, digits, '-' and '_', 1 to 64 of them: it travels in every announcement. */
  id: string;
  /** The shared secret, at least 32 bytes. */
  key: Buffer;
}

/** Throws VaultMulticastError('EINVAL') unless the key can be used. */
export function assertUsableKey(k: SigningKey): void {
  if (typeof k.id !== 'string' || !KEY_ID_RE.test(k.id)) {
    throw new VaultMulticastError(
      'EINVAL',
      `signing key id ${JSON.stringify(k.id)} must be 1 to ${MAX_KEY_ID_LENGTH} letters, digits, '-' or '_'`,
    );
  }
  if (!Buffer.isBuffer(k.key) || k.key.length < MIN_KEY_BYTES) {
    throw new VaultMulticastError(
      'EINVAL',
      `signing key ${k.id} has ${Buffer.isBuffer(k.key) ? k.key.length : 0} bytes; at least ${MIN_KEY_BYTES} are required`,
    );
  }
}

/** The group as both ends write it into the MAC: "FF02:0::1" and "ff02::1" are one group. */
export function canonicalGroup(group: string): string {
  const bare = group.includes('%') ? group.slice(0, group.indexOf('%')) : group;
  try {
    return new SocketAddress({ address: bare, family: bare.includes(':') ? 'ipv6' : 'ipv4' }).address;
  } catch {
    return bare;
  }
}

function macHeader(group: string, port: number): string {
  return `${SIGNATURE_CONTEXT}\n${canonicalGroup(group)}\n${port}\n`;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Signs one announcement. `body` must be a JSON object (`{...}`, surrounding whitespace allowed, dropped);
 * anything else is returned unchanged, because it could not carry a signature and still be what it was —
 * listeners in `required` mode drop it as signature_missing.
 */
export function signAnnouncement(
  body: Buffer,
  key: SigningKey,
  group: string,
  port: number,
  unixMillis: number,
): Buffer {
  let end = body.length;
  while (end > 0 && isSpace(body[end - 1]!)) end--;
  let start = 0;
  while (start < end && isSpace(body[start]!)) start++;
  if (end - start < 2 || body[start] !== OPEN || body[end - 1] !== CLOSE) return body;
  // head: the object without its closing brace and the whitespace before it, so that the datagram and the
  // body the MAC covers map one-to-one (the verifier can rebuild exactly one body from a datagram).
  let headEnd = end - 1;
  while (headEnd > start && isSpace(body[headEnd - 1]!)) headEnd--;
  const head = body.subarray(start, headEnd);
  const millis = String(Math.floor(unixMillis));
  const mac = createHmac('sha256', key.key)
    .update(`${macHeader(group, port)}${millis}\n`)
    .update(head)
    .update(CLOSING)
    .digest('base64url');
  const empty = head.length === 1; // `{` only
  const tail = `${empty ? '' : ','}"sig":"${SIGNATURE_VERSION}.${key.id}.${millis}.${mac}"}`;
  return Buffer.concat([head, Buffer.from(tail, 'latin1')]);
}

export interface CreateSignerOptions {
  keyId: string;
  key: Buffer;
  group: string;
  port: number;
  clock?: Clock;
}

export function createSigner(opts: CreateSignerOptions): AnnouncementSigner {
  const key: SigningKey = { id: opts.keyId, key: opts.key };
  assertUsableKey(key);
  const wall = opts.clock ? () => opts.clock!.wallMs() : Date.now;
  return { sign: (bytes: Buffer) => signAnnouncement(bytes, key, opts.group, opts.port, wall()) };
}

function isB64url(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f
  );
}

function b64urlValue(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  return c === 0x2d ? 62 : 63;
}

/** Decodes the 43 base64url characters at b[at] into out (32 bytes); the characters were validated. */
function decodeMac(b: Buffer, at: number, out: Buffer): void {
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = at; i < at + MAC_CHARS; i++) {
    acc = ((acc << 6) | b64urlValue(b[i]!)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
}

/** Where the signature sits in a datagram. */
interface Located {
  /** End of the body head (exclusive): the body is bytes[0, headEnd) + "}". */
  headEnd: number;
  /** The signature value's bounds (between the quotes). */
  valueStart: number;
  valueEnd: number;
}

/**
 * Finds a trailing `,"sig":"…"}` (or `{"sig":"…"}`) by scanning at most MAX_VALUE_LENGTH bytes back from the
 * end. Returns undefined for an unsigned datagram, 'invalid' for a signature key that is there but in a form
 * no signer produces.
 */
function locate(b: Buffer): Located | 'invalid' | undefined {
  const n = b.length;
  if (n < MARKER.length + 3 || b[n - 1] !== CLOSE || b[n - 2] !== QUOTE) return undefined;
  const valueEnd = n - 2;
  const lowest = Math.max(0, valueEnd - MAX_VALUE_LENGTH - 1);
  let q = valueEnd - 1;
  while (q >= lowest && b[q] !== QUOTE) q--;
  if (q < lowest) return undefined;
  const m = q - (MARKER.length - 1); // where `"sig":"` would start
  if (m < 1) return undefined;
  for (let i = 0; i < MARKER.length; i++) if (b[m + i] !== MARKER[i]) return undefined;
  const sep = b[m - 1];
  if (sep === OPEN) return { headEnd: m, valueStart: q + 1, valueEnd };
  if (sep !== COMMA) return undefined;
  const last = m - 2 >= 0 ? b[m - 2]! : -1;
  // A signer never writes `{,"sig"` or whitespace before the comma; accepting them would give one MAC two
  // datagrams, and the second copy could be raced in to burn the first's replay-cache entry.
  if (last === OPEN || last < 0 || isSpace(last)) return 'invalid';
  return { headEnd: m - 1, valueStart: q + 1, valueEnd };
}

export interface SignatureGuardOptions {
  mode: Exclude<SigningMode, 'off'>;
  keys: readonly SigningKey[];
  group: string;
  port: number;
  replayWindowMs?: number;
  replayCacheEntries?: number;
  /**
   * The cache to remember accepted MACs in. Pass the previous guard's across a reload (or key rotation):
   * a fresh cache would accept again every announcement recorded within the window.
   */
  replayCache?: ReplayCache;
  /**
   * Wall ms before which no signed datagram is accepted: the process start. A restart forgets the cache, so
   * without this an announcement recorded just before it could be replayed once more within the window.
   */
  notBeforeWallMs?: number;
  clock?: Clock;
}

interface PreparedKey {
  id: Buffer;
  key: Buffer;
}

export class SignatureGuard implements ReceiveGuard {
  readonly name = 'signature';
  private readonly mode: SignatureGuardOptions['mode'];
  private readonly keys: PreparedKey[];
  private readonly header: Buffer;
  /** The MAC input is assembled here and hashed in one update: each update() is a call into C++. */
  private scratch = Buffer.alloc(2048);
  private readonly windowMs: number;
  private readonly wallMs: () => number;
  readonly replayCache: ReplayCache;
  private readonly notBeforeWallMs: number;
  private readonly given = Buffer.alloc(MAC_BYTES);

  constructor(opts: SignatureGuardOptions) {
    if (opts.mode === 'required' && opts.keys.length === 0) {
      throw new VaultMulticastError('EINVAL', 'signing mode "required" needs at least one key');
    }
    const ids = new Set<string>();
    for (const k of opts.keys) {
      assertUsableKey(k);
      if (ids.has(k.id)) throw new VaultMulticastError('EINVAL', `signing key id ${k.id} is given twice`);
      ids.add(k.id);
    }
    this.mode = opts.mode;
    this.keys = opts.keys.map((k) => ({ id: Buffer.from(k.id, 'latin1'), key: Buffer.from(k.key) }));
    this.header = Buffer.from(macHeader(opts.group, opts.port), 'utf8');
    this.windowMs = opts.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.wallMs = opts.clock ? () => opts.clock!.wallMs() : Date.now;
    this.replayCache = opts.replayCache ?? new ReplayCache(opts.replayCacheEntries);
    this.notBeforeWallMs = opts.notBeforeWallMs ?? Number.NEGATIVE_INFINITY;
  }

  check(b: Buffer, _source: SourceInfo, nowMonoMs: number): DropReason | undefined {
    const at = locate(b);
    if (at === undefined) return this.mode === 'required' ? 'signature_missing' : undefined;
    if (at === 'invalid') return 'signature_invalid';
    const { valueStart: vs, valueEnd: ve } = at;
    // "v1." <id> "." <millis> "." <mac>
    if (ve - vs < 3 || b[vs] !== 0x76 || b[vs + 1] !== 0x31 || b[vs + 2] !== DOT) return 'signature_invalid';
    const idStart = vs + 3;
    let p = idStart;
    while (p < ve && b[p] !== DOT) p++;
    const idEnd = p;
    if (idEnd === idStart || idEnd - idStart > MAX_KEY_ID_LENGTH || p === ve) return 'signature_invalid';
    p++;
    const msStart = p;
    let millis = 0;
    while (p < ve && b[p] !== DOT) {
      const c = b[p]!;
      if (c < 0x30 || c > 0x39) return 'signature_invalid';
      millis = millis * 10 + (c - 0x30);
      p++;
    }
    const msLen = p - msStart;
    if (msLen === 0 || msLen > MAX_MILLIS_DIGITS || (msLen > 1 && b[msStart] === 0x30) || p === ve) {
      return 'signature_invalid';
    }
    p++;
    if (ve - p !== MAC_CHARS) return 'signature_invalid';
    for (let i = p; i < ve; i++) if (!isB64url(b[i]!)) return 'signature_invalid';
    // 43 characters carry 258 bits; the last two must be zero or the same MAC has several spellings.
    if ((b64urlValue(b[ve - 1]!) & 3) !== 0) return 'signature_invalid';
    for (let i = idStart; i < idEnd; i++) if (!isB64url(b[i]!)) return 'signature_invalid';

    const key = this.findKey(b, idStart, idEnd);
    if (key === undefined) return 'unknown_key';

    const given = this.given;
    decodeMac(b, p, given);
    const header = this.header;
    const size = header.length + msLen + 1 + at.headEnd + 1;
    if (this.scratch.length < size) this.scratch = Buffer.alloc(size * 2);
    const input = this.scratch;
    let o = header.copy(input, 0);
    o += b.copy(input, o, msStart, msStart + msLen);
    input[o++] = 0x0a;
    o += b.copy(input, o, 0, at.headEnd);
    input[o++] = CLOSE;
    const expected = createHmac('sha256', key).update(input.subarray(0, o)).digest();
    if (!timingSafeEqual(expected, given)) return 'signature_invalid';

    // The sender's clock against ours: both are wall clocks, the only shared time two hosts have. The window
    // absorbs skew between NTP-synchronised hosts; our monotonic clock would mean nothing to the sender.
    const age = this.wallMs() - millis;
    if (age > this.windowMs || age < -this.windowMs || millis < this.notBeforeWallMs) return 'replayed';
    // Replayable until the sender's time + window by our wall clock; a second of margin for a clock step.
    const keepMs = this.windowMs - age + 1000;
    if (!this.replayCache.remember(expected, nowMonoMs, nowMonoMs + keepMs)) return 'replayed';
    return undefined;
  }

  private findKey(b: Buffer, start: number, end: number): Buffer | undefined {
    const len = end - start;
    for (const k of this.keys) {
      if (k.id.length !== len) continue;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (k.id[i] !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return k.key;
    }
    return undefined;
  }
}
