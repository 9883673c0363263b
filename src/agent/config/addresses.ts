/**
 * Address checks for the configuration: multicast groups, host:port listen addresses and CIDR networks.
 * Written against node:net so that what passes here is what the sockets will accept.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Why `group` is not a usable multicast group, or undefined when it is. */
export function multicastGroupProblem(group: string): string | undefined {
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

function v4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function v6ToBigInt(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToBigInt(v4[1]!);
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(zeros).fill('0'), ...tailParts];
  return parts.reduce((acc, h) => (acc << 16n) | BigInt(Number.parseInt(h, 16)), 0n);
}

/**
 * A network in CIDR notation, normalised; a bare address means that one host (/32 or /128). Host bits set
 * below the prefix are rejected, since `10.1.2.3/8` is usually a typo for a different intent.
 */
export function parseCidr(text: string): { cidr: string } | { error: string } {
  const [addr = '', prefixText, extra] = text.split('/');
  const family = isIP(addr) as 0 | 4 | 6;
  if (family === 0 || extra !== undefined) {
    return { error: `invalid network ${JSON.stringify(text)}: write a CIDR such as 10.0.0.0/8 or fd00::/8` };
  }
  const bits = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { cidr: `${addr}/${bits}` };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return { error: `invalid network ${JSON.stringify(text)}: the prefix length must be 0 to ${bits}` };
  }
  const prefix = Number(prefixText);
  const value = family === 4 ? v4ToBigInt(addr) : v6ToBigInt(addr);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((value & hostMask) !== 0n) {
    const network = value & ~hostMask;
    return {
      error: `invalid network ${JSON.stringify(text)}: address bits are set beyond the /${prefix} prefix (did you mean ${formatAddress(network, family)}/${prefix}?)`,
    };
  }
  return { cidr: `${addr}/${prefix}` };
}

function formatAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const hextets = Array.from({ length: 8 }, (_, i) =>
    ((value >> BigInt(112 - i * 16)) & 0xffffn).toString(16),
  );
  // Compress the longest run of zero hextets, as people write IPv6 addresses.
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start === -1) return hextets.join(':');
  return `${hextets.slice(0, best.start).join(':')}::${hextets.slice(best.start + best.len).join(':')}`;
}
