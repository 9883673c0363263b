/**
 * Address checks for the configuration: multicast groups, host:port listen addresses and CIDR networks.
 * Written against node:net so that what passes here is what the sockets will accept.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { type Network, parseAddress, parseNetwork } from '../../discovery/security/cidr.js';

/** Why `group` is not a usable multicast group, or undefined when it is. */
export function multicastGroupProblem(group: string): string | undefined {
  if (group.includes('%')) {
    return `write the group without a %zone (${group.slice(0, group.indexOf('%'))}) and name the interface in interfaces`;
  }
  if (isIPv4(group)) {
    const first = Number(group.split('.')[0]);
    return first >= 224 && first <= 239
      ? undefined
      : `${group} is not a multicast address (IPv4 groups are 224.0.0.0 to 239.255.255.255, e.g. 224.1.1.1)`;
  }
  if (isIPv6(group)) {
    return (firstHextet(group) & 0xff00) === 0xff00
      ? undefined
      : `${group} is not a multicast address (IPv6 groups start with ff, e.g. ff05::1:3)`;
  }
  return `${JSON.stringify(group)} is not an IP address; a group is a multicast address such as 224.1.1.1 or ff05::1:3`;
}

function firstHextet(v6: string): number {
  if (v6.startsWith('::')) return 0;
  return Number.parseInt(v6.split(':')[0] ?? '0', 16);
}

/**
 * IPv6 groups of interface- or link-local scope (ff01::/16, ff02::/16 and their transient/prefix variants)
 * exist once per link, so joining or sending needs the interface named; the kernel's default would pick one
 * arbitrarily.
 */
export function isLinkScopedV6Group(group: string): boolean {
  if (!isIPv6(group)) return false;
  const scope = firstHextet(group) & 0x000f;
  return scope === 1 || scope === 2;
}

export interface HostPort {
  host: string;
  port: number;
}

const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:port` or `[v6]:port`; port 0 lets the kernel choose (tests use it). */
export function parseListen(text: string): HostPort | { error: string } {
  const hint = 'write host:port, e.g. 127.0.0.1:9477, 0.0.0.0:9477 or [::1]:9477';
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  const plain = /^([^:[\]]+):(\d{1,5})$/.exec(text);
  let host: string;
  let portText: string;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (!isIPv6(host))
      return { error: `invalid listen address ${JSON.stringify(text)}: ${host} is not an IPv6 address` };
  } else if (plain) {
    host = plain[1]!;
    portText = plain[2]!;
    if (!isIPv4(host) && !HOSTNAME.test(host)) {
      return {
        error: `invalid listen address ${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host; ${hint}`,
      };
    }
  } else if (isIPv6(text.replace(/:\d+$/, ''))) {
    return {
      error: `invalid listen address ${JSON.stringify(text)}: put an IPv6 address in brackets, e.g. [::1]:9477`,
    };
  } else {
    return { error: `invalid listen address ${JSON.stringify(text)}: ${hint}` };
  }
  const port = Number(portText);
  if (port > 65535)
    return { error: `invalid listen address ${JSON.stringify(text)}: port must be 0 to 65535` };
  return { host, port };
}

/** Loopback hosts: nothing bound there is reachable from another machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) {
    const lower = host.toLowerCase();
    return lower === '::1' || /^::ffff:127\./.test(lower) || /^(0{1,4}:){7}0{0,3}1$/.test(lower);
  }
  return false;
}

/**
 * A network in CIDR notation, parsed by the same code the source filter uses, so what loads is what filters.
 * A bare address means that one host. Host bits set below the prefix are rejected even though the filter
 * would mask them: `10.1.2.3/8` in an allowlist is more often a typo than a wish to allow 16 million hosts.
 */
export function parseCidr(text: string): { cidr: string } | { error: string } {
  let network: Network;
  try {
    network = parseNetwork(text);
  } catch {
    const slash = text.indexOf('/');
    const family = parseAddress(slash < 0 ? text : text.slice(0, slash), new Uint32Array(4));
    const why =
      slash >= 0 && family !== 0
        ? `the prefix length must be 0 to ${family === 4 ? 32 : 128}`
        : 'write a CIDR such as 10.0.0.0/8 or fd00::/8';
    return { error: `invalid network ${JSON.stringify(text)}: ${why}` };
  }
  const slash = text.indexOf('/');
  if (slash < 0) return { cidr: text };
  const written = new Uint32Array(4);
  const family = parseAddress(text.slice(0, slash), written);
  if (written.some((w, i) => w !== network.words[i])) {
    const bits = family === 4 ? network.prefix - 96 : network.prefix;
    return {
      error: `invalid network ${JSON.stringify(text)}: address bits are set beyond the /${bits} prefix (did you mean ${formatWords(network.words, family)}/${bits}?)`,
    };
  }
  return { cidr: text };
}

function formatWords(words: Uint32Array, family: number): string {
  if (family === 4) return [24, 16, 8, 0].map((s) => String((words[3]! >>> s) & 0xff)).join('.');
  const hextets = Array.from(words).flatMap((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)]);
  // Compress the longest run of zero hextets, as people write IPv6 addresses.
  let best = { start: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && hextets[j] === '0') j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.start === -1) return hextets.join(':');
  return `${hextets.slice(0, best.start).join(':')}::${hextets.slice(best.start + best.len).join(':')}`;
}
