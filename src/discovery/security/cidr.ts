/**
 * IP addresses and CIDR networks as 128-bit values, IPv4 held IPv4-mapped (::ffff:a.b.c.d) so one comparison
 * serves both families and a dual-stack socket's `::ffff:198.18.0.1` source matches a `198.18.0.0/16` rule.
 * The parser is hand-written because it runs once per datagram: it writes into a caller's scratch array and
 * allocates nothing (node:net's isIP + a split would allocate several strings per call).
 */
import { VaultMulticastError } from '../errors.js';

export interface Network {
  readonly words: Uint32Array;
  /** Prefix length over the 128-bit form (an IPv4 /24 is /120 here). */
  readonly prefix: number;
  /** As written, for messages. */
  readonly text: string;
}

const MAPPED_V4_WORD2 = 0x0000ffff;

/** IPv4 dotted quad in s[start, end) as an unsigned 32-bit number, or -1. */
function parseV4(s: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // No leading zeros: "010" is octal to some parsers and decimal to others; refuse the ambiguity.
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint16Array(8);

/** IPv6 text in s[start, end) (no zone) into out; false when malformed. */
function parseV6(s: string, start: number, end: number, out: Uint32Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (end - start < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) break;
      value = value * 16 + d;
      digits++;
      i++;
      if (digits > 4) return false;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // Embedded IPv4 in the last 32 bits (::ffff:1.2.3.4, 64:ff9b::1.2.3.4).
      if (count > 6) return false;
      const v4 = parseV4(s, groupStart, end);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0) return false;
    groups[count++] = value;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0 && count !== 8) return false;
  if (gap >= 0 && count === 8) return false;
  const fill = 8 - count;
  for (let g = 0, w = 0; g < 8; g++) {
    let v: number;
    if (gap < 0 || g < gap) v = groups[g]!;
    else if (g < gap + fill) v = 0;
    else v = groups[g - fill]!;
    if (g % 2 === 0) w = v << 16;
    else out[g >> 1] = (w | v) >>> 0;
  }
  return true;
}

/**
 * Parses an IPv4 or IPv6 address (a `%zone` suffix is ignored) into out as 128 bits. Returns 4 or 6 for the
 * family as written, or 0 when `text` is not an address. Never throws, never allocates.
 */
export function parseAddress(text: string, out: Uint32Array): 0 | 4 | 6 {
  let end = text.length;
  if (end === 0 || end > 64) return 0;
  const zone = text.indexOf('%');
  if (zone >= 0) end = zone;
  if (text.indexOf(':') < 0) {
    const v4 = parseV4(text, 0, end);
    if (v4 < 0) return 0;
    out[0] = 0;
    out[1] = 0;
    out[2] = MAPPED_V4_WORD2;
    out[3] = v4;
    return 4;
  }
  return parseV6(text, 0, end, out) ? 6 : 0;
}

/** Parses "198.18.0.0/15", "2001:db8::/32" or a bare address (a host network). Throws on anything else. */
export function parseNetwork(text: string): Network {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  const family = parseAddress(addrText, words);
  if (family === 0 || addrText.includes('%')) {
    throw new VaultMulticastError('EINVAL', `not an IP network: ${JSON.stringify(text)}`);
  }
  const max = family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) {
      throw new VaultMulticastError('EINVAL', `bad prefix length in ${JSON.stringify(text)} (0..${max})`);
    }
    bits = Number(p);
  }
  const prefix = family === 4 ? 96 + bits : bits;
  // Normalise host bits away so "198.18.0.7/16" means the network, as `ip route` reads it.
  for (let w = 0; w < 4; w++) words[w] = (words[w]! & wordMask(prefix, w)) >>> 0;
  return { words, prefix, text };
}

function wordMask(prefix: number, word: number): number {
  const bits = Math.min(32, Math.max(0, prefix - 32 * word));
  if (bits === 0) return 0;
  if (bits === 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

export function networkContains(net: Network, addr: Uint32Array): boolean {
  const words = net.words;
  for (let w = 0; w < 4; w++) {
    const mask = wordMask(net.prefix, w);
    if (mask === 0) return true;
    if (((addr[w]! ^ words[w]!) & mask) !== 0) return false;
  }
  return true;
}

export function anyContains(nets: readonly Network[], addr: Uint32Array): boolean {
  for (let i = 0; i < nets.length; i++) if (networkContains(nets[i]!, addr)) return true;
  return false;
}
