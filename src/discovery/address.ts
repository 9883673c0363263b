/**
 * Service addresses as announcements carry them. Senders write `host:port`, `[v6]:port`, a bare host, a
 * `[host, port]` pair or separate `ip`/`port` fields; these helpers turn each into one normal form so that the
 * same service is one registry entry whichever shape it used. No regular expressions: they run once per
 * received datagram.
 */

/** Longest host accepted: a DNS name is at most 253 characters; an IPv6 literal with a zone fits as well. */
export const MAX_HOST_LENGTH = 253;

export interface HostPort {
  host: string;
  port: number | undefined;
  /** The normal address when the input already was one (saves building the same string again). */
  addr?: string;
}

/**
 * Parses a port given as a number or as a string of decimal digits. Returns the port, or undefined when the
 * value is not an integer in 1..65535 (strings with signs, spaces, decimals or exponents are refused).
 */
export function parsePort(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
  }
  if (typeof value === 'string') return parseDecimalPort(value, 0, value.length);
  return undefined;
}

/** The digits of `s` between `start` and `end` as a port, or undefined. */
function parseDecimalPort(s: string, start: number, end: number): number | undefined {
  const len = end - start;
  if (len < 1 || len > 5) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * True when `host` can stand in an address: not empty, not too long, and free of whitespace, control
 * characters and the characters that would make `host:port` ambiguous or smuggle a URL (`[`, `]`, `/`, `@`).
 */
function isPlainHost(host: string): boolean {
  const len = host.length;
  if (len === 0 || len > MAX_HOST_LENGTH) return false;
  for (let i = 0; i < len; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x2f || c === 0x40 || c === 0x5b || c === 0x5d) return false;
  }
  return true;
}

/**
 * True when `s` has the characters of an IPv6 literal: hex digits, colons, dots (embedded IPv4) and an
 * optional `%zone` suffix. It does not prove the literal is valid, only that it cannot be anything else.
 */
export function looksLikeIPv6(s: string): boolean {
  const len = s.length;
  if (len < 2 || len > MAX_HOST_LENGTH) return false;
  let colons = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) colons++;
    else if (c === 0x25) return colons >= 2 && i + 1 < len && isPlainHost(s.slice(i + 1));
    else if (
      !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x2e)
    )
      return false;
  }
  return colons >= 2;
}

/** IPv6 literals are compared case-insensitively; everything before a zone id is lower-cased. */
function normaliseIPv6(s: string): string {
  const zone = s.indexOf('%');
  return zone < 0 ? s.toLowerCase() : s.slice(0, zone).toLowerCase() + s.slice(zone);
}

/**
 * Splits an announced `addr` string: `host:port`, `[v6]:port`, `[v6]`, a bare host, or a bare IPv6 literal.
 * Returns undefined when the string is none of these.
 */
export function parseAddrString(addr: string): HostPort | undefined {
  const len = addr.length;
  if (len === 0) return undefined;
  if (addr.charCodeAt(0) === 0x5b) {
    const close = addr.indexOf(']');
    if (close < 0) return undefined;
    const inner = addr.slice(1, close);
    if (!looksLikeIPv6(inner)) return undefined;
    const host = normaliseIPv6(inner);
    if (close === len - 1) return { host, port: undefined };
    if (addr.charCodeAt(close + 1) !== 0x3a) return undefined;
    const port = parseDecimalPort(addr, close + 2, len);
    if (port === undefined) return undefined;
    return host === inner && addr.charCodeAt(close + 2) !== 0x30 ? { host, port, addr } : { host, port };
  }
  const colon = addr.indexOf(':');
  if (colon < 0) return isPlainHost(addr) ? { host: addr, port: undefined, addr } : undefined;
  if (addr.indexOf(':', colon + 1) >= 0) {
    // Several colons and no brackets: only an IPv6 literal without a port can look like this.
    return looksLikeIPv6(addr) ? { host: normaliseIPv6(addr), port: undefined } : undefined;
  }
  const host = addr.slice(0, colon);
  if (!isPlainHost(host)) return undefined;
  const port = parseDecimalPort(addr, colon + 1, len);
  if (port === undefined) return undefined;
  // Only a port written with leading zeros makes the normal form differ from what was sent.
  return addr.charCodeAt(colon + 1) !== 0x30 ? { host, port, addr } : { host, port };
}

/**
 * Checks a host given on its own (the first element of `[host, port]`, or `ip`). An IPv6 literal may come
 * with or without brackets. Returns the normal host, or undefined.
 */
export function parseHost(host: string): string | undefined {
  if (host.length > 2 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d) {
    const inner = host.slice(1, -1);
    return looksLikeIPv6(inner) ? normaliseIPv6(inner) : undefined;
  }
  if (host.indexOf(':') >= 0) return looksLikeIPv6(host) ? normaliseIPv6(host) : undefined;
  return isPlainHost(host) ? host : undefined;
}

/** The normal address: `host:port`, `[v6]:port`, or the host alone when there is no port. */
export function formatAddr(host: string, port: number | undefined): string {
  if (port === undefined) return host;
  return host.indexOf(':') >= 0 ? `[${host}]:${port}` : `${host}:${port}`;
}
