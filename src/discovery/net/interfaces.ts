import { readFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

export type IpFamily = 'IPv4' | 'IPv6';

/** How interfaces are configured: one name or address, several, every suitable one, or the kernel's choice. */
export type InterfaceSpec = string | readonly string[] | undefined;

/** One configured interface resolved against the host's current interfaces. */
export interface ResolvedInterface {
  /** As configured (a name or an address), the name when it came from 'all', or 'default'. */
  readonly spec: string;
  /** The OS interface name, when known. */
  readonly name: string | undefined;
  /** The OS interface index: it changes when an interface is deleted and re-created under the same name. */
  readonly ifindex: number | undefined;
  /**
   * What the socket calls take: for IPv4 the interface's address, for IPv6 `::%name` (the scope id selects
   * the interface). Undefined for 'default' and when resolution failed.
   */
  readonly address: string | undefined;
  /** ENODEV (no such interface) or EADDRNOTAVAIL (no address of the group's family), when unresolved. */
  readonly error: string | undefined;
}

const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;

function readSysNumber(name: string, file: string): number | undefined {
  // Interface names never hold '/', and '.'/'..' are not names: nothing configured may walk out of /sys.
  if (name.includes('/') || name === '.' || name === '..' || name.length > 15) return undefined;
  try {
    // `flags` is hex (0x1003), `ifindex` decimal: Number() reads both.
    const text = readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim();
    const value = Number(text);
    return text !== '' && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the interface is up and multicast-capable; undefined when the OS does not say (not Linux). */
function isUpMulticast(name: string): boolean | undefined {
  const flags = readSysNumber(name, 'flags');
  if (flags === undefined) return undefined;
  return (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0;
}

function interfaceExists(name: string, table: NodeJS.Dict<NetworkInterfaceInfo[]>): boolean {
  return table[name] !== undefined || readSysNumber(name, 'ifindex') !== undefined;
}

function ifindexOf(name: string, entries: NetworkInterfaceInfo[] | undefined): number | undefined {
  const fromSys = readSysNumber(name, 'ifindex');
  if (fromSys !== undefined) return fromSys;
  for (const e of entries ?? []) if (e.family === 'IPv6' && e.scopeid) return e.scopeid;
  return undefined;
}

/** 'all', or the list of configured interfaces (empty for the kernel's choice). */
export function normaliseInterfaces(spec: InterfaceSpec): 'all' | string[] {
  if (spec === undefined) return [];
  const list = typeof spec === 'string' ? spec.split(',') : [...spec];
  const trimmed = list.map((s) => s.trim()).filter((s) => s !== '');
  if (trimmed.includes('all')) return 'all';
  return [...new Set(trimmed)];
}

function resolveOne(
  spec: string,
  family: IpFamily,
  table: NodeJS.Dict<NetworkInterfaceInfo[]>,
): ResolvedInterface {
  const bare = spec.includes('%') ? (spec.split('%')[0] ?? spec) : spec;
  let name: string | undefined;
  if (isIP(bare) !== 0) {
    for (const [ifname, entries] of Object.entries(table)) {
      if (entries?.some((e) => e.address === bare)) name = ifname;
    }
    if (name === undefined)
      return { spec, name: undefined, ifindex: undefined, address: undefined, error: 'EADDRNOTAVAIL' };
  } else {
    if (!interfaceExists(spec, table))
      return { spec, name: spec, ifindex: undefined, address: undefined, error: 'ENODEV' };
    name = spec;
  }
  const entries = table[name];
  const ifindex = ifindexOf(name, entries);
  if (family === 'IPv6') return { spec, name, ifindex, address: `::%${name}`, error: undefined };
  const address = isIP(bare) === 4 ? bare : entries?.find((e) => e.family === 'IPv4')?.address;
  if (address === undefined) return { spec, name, ifindex, address: undefined, error: 'EADDRNOTAVAIL' };
  return { spec, name, ifindex, address, error: undefined };
}

/**
 * Resolves configured interfaces against the host as it is now. Called at start and on every reconcile pass,
 * so a renamed address or a re-created interface is picked up. 'all' means every interface that is up,
 * multicast-capable and has an address of the group's family (loopback has no multicast flag on Linux).
 */
export function resolveInterfaces(
  spec: 'all' | readonly string[],
  family: IpFamily,
  table: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): ResolvedInterface[] {
  if (spec !== 'all') return spec.map((s) => resolveOne(s, family, table));
  const out: ResolvedInterface[] = [];
  for (const [name, entries] of Object.entries(table)) {
    if (!entries?.some((e) => e.family === family)) continue;
    const capable = isUpMulticast(name);
    if (capable === false || (capable === undefined && entries.every((e) => e.internal))) continue;
    out.push(resolveOne(name, family, table));
  }
  return out;
}

export function familyOfGroup(group: string): IpFamily | undefined {
  const v = isIP(group.split('%')[0] ?? group);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

/** Whether `group` is a multicast address (224.0.0.0/4 or ff00::/8). */
function firstHextet(group: string): string {
  return (group.split(':')[0] ?? '').padStart(4, '0').toLowerCase();
}

export function isMulticastGroup(group: string): boolean {
  if (isIPv6(group)) return firstHextet(group).startsWith('ff');
  const first = Number.parseInt(group.split('.')[0] ?? '', 10);
  return isIP(group) === 4 && first >= 224 && first <= 239;
}

/**
 * IPv6 groups of interface- or link-local scope (ffX1::, ffX2::) only exist per interface: a socket bound to
 * one must name the interface (the kernel then binds the socket to it).
 */
export function needsScope(group: string): boolean {
  if (!isIPv6(group)) return false;
  const scope = Number.parseInt(firstHextet(group).charAt(3), 16);
  return scope === 1 || scope === 2;
}
