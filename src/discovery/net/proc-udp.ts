/**
 * Datagrams the kernel dropped for this process's UDP sockets because their receive buffer was full: the
 * `drops` column of /proc/net/udp and /proc/net/udp6 (per network namespace, so it sees the sockets of the
 * namespace this process runs in). Loss under overload happens there, before a listener sees anything, so
 * without this it is invisible.
 *
 * Sockets are matched by local address and port and kept to those this process owns (their inodes appear
 * under /proc/self/fd), so another program bound to the same group and port does not count. A socket's
 * counter dies with it (a listener re-creates its socket after an interface is re-created), so
 * KernelDropCounter folds the last value of every closed socket into a lifetime total that only grows:
 * what a Prometheus counter needs.
 *
 * Reads are bounded: at most MAX_PROC_BYTES of each table and MAX_FDS descriptors; a host with more sockets
 * than that gets a partial (lower) figure rather than a slow scrape.
 */

import { open, readdir, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { parseAddress } from '../security/cidr.js';

const MAX_PROC_BYTES = 8 * 1024 * 1024;
const MAX_FDS = 65_536;

export interface UdpSocketInfo {
  /** Kernel socket inode: identifies a socket for its lifetime. */
  inode: number;
  /** Datagrams dropped on receive since the socket was created. */
  drops: number;
  /** Bytes waiting in the receive queue right now. */
  rxQueue: number;
}

export interface UdpEndpoint {
  /** Local address the socket is bound to: the group for a listener, or a wildcard ('0.0.0.0', '::'). */
  address: string;
  port: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

function hex8(word: number): string {
  // The kernel prints each 32-bit word of the address as a host-order integer.
  const w = LITTLE_ENDIAN
    ? ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)
    : word;
  return (w >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** The `local_address` column for an endpoint, e.g. 224.1.1.1:5004 → "010101E0:138C". Undefined if unparsable. */
export function procLocalAddress(ep: UdpEndpoint): { table: 'udp' | 'udp6'; text: string } | undefined {
  const bare = ep.address.includes('%') ? ep.address.slice(0, ep.address.indexOf('%')) : ep.address;
  const words = new Uint32Array(4);
  const family = parseAddress(bare, words);
  if (family === 0 || !Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) return undefined;
  const port = ep.port.toString(16).toUpperCase().padStart(4, '0');
  if (family === 4) return { table: 'udp', text: `${hex8(words[3]!)}:${port}` };
  return {
    table: 'udp6',
    text: `${hex8(words[0]!)}${hex8(words[1]!)}${hex8(words[2]!)}${hex8(words[3]!)}:${port}`,
  };
}

async function readBounded(path: string): Promise<string | undefined> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const chunks: Buffer[] = [];
    let total = 0;
    // /proc files report size 0; read until EOF or the bound.
    while (total < MAX_PROC_BYTES) {
      const buf = Buffer.allocUnsafe(Math.min(256 * 1024, MAX_PROC_BYTES - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
    }
    const text = Buffer.concat(chunks).toString('latin1');
    // Drop a line cut by the bound.
    return total >= MAX_PROC_BYTES ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** Inodes of the sockets this process holds open. */
export async function ownSocketInodes(procSelf = '/proc/self'): Promise<Set<number>> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = await readdir(`${procSelf}/fd`);
  } catch {
    return inodes;
  }
  const batch = fds.slice(0, MAX_FDS);
  await Promise.all(
    batch.map(async (fd) => {
      try {
        const target = await readlink(`${procSelf}/fd/${fd}`);
        if (target.startsWith('socket:[')) inodes.add(Number(target.slice(8, -1)));
      } catch {
        // Closed between readdir and readlink.
      }
    }),
  );
  return inodes;
}

interface TableEntry extends UdpSocketInfo {}

/** Sockets bound to any of `endpoints`, whoever owns them; undefined when a table could not be read. */
async function readTables(
  endpoints: readonly UdpEndpoint[],
  procNet: string,
): Promise<TableEntry[] | undefined> {
  const wanted = { udp: new Set<string>(), udp6: new Set<string>() };
  for (const ep of endpoints) {
    const local = procLocalAddress(ep);
    if (local) wanted[local.table].add(local.text);
  }
  const out: TableEntry[] = [];
  for (const table of ['udp', 'udp6'] as const) {
    if (wanted[table].size === 0) continue;
    const text = await readBounded(`${procNet}/${table}`);
    if (text === undefined) return undefined;
    let pos = text.indexOf('\n') + 1; // header
    while (pos > 0 && pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      const line = text.slice(pos, end);
      pos = end + 1;
      const f = line.trim().split(/\s+/);
      // sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
      if (f.length < 13 || !wanted[table].has(f[1]!)) continue;
      const rx = f[4]!.split(':')[1] ?? '0';
      out.push({ inode: Number(f[9]), drops: Number(f[12]) || 0, rxQueue: Number.parseInt(rx, 16) || 0 });
    }
  }
  return out;
}

/**
 * The sockets bound to any of `endpoints` (all families), read from /proc/net/udp{,6}. With `owned`, only
 * sockets whose inode is in it. Empty when the tables cannot be read.
 */
export async function readUdpSockets(
  endpoints: readonly UdpEndpoint[],
  opts: { owned?: ReadonlySet<number>; procNet?: string } = {},
): Promise<UdpSocketInfo[]> {
  const all = (await readTables(endpoints, opts.procNet ?? '/proc/net')) ?? [];
  const owned = opts.owned;
  return owned ? all.filter((s) => owned.has(s.inode)) : all;
}

/** Wildcard addresses a socket of the endpoint's family may be bound to instead of the group itself. */
function withWildcards(address: string, port: number): UdpEndpoint[] {
  const v6 = address.includes(':');
  return [
    { address, port },
    { address: v6 ? '::' : '0.0.0.0', port },
  ];
}

/**
 * Kernel receive-buffer drops of a listener's sockets over the process's lifetime (monotonic across socket
 * re-creations). Create one per listener, call read() at scrape time.
 */
export class KernelDropCounter {
  private readonly endpoints: UdpEndpoint[];
  /** Our sockets seen so far → their last drop count. */
  private readonly lastByInode = new Map<number, number>();
  /** Sockets on the endpoint found not to be ours (another process), so /proc/self/fd is not read again. */
  private readonly foreign = new Set<number>();
  /** Drops of sockets that have since closed. */
  private retired = 0;
  private last: number | undefined;
  private readonly procNet: string;
  private readonly procSelf: string | undefined;

  /**
   * @param group the listener's group (a `%zone` suffix is ignored) — sockets bound to it or to the
   *   family's wildcard address on `port`, owned by this process, are counted.
   */
  constructor(group: string, port: number, opts: { procNet?: string; procSelf?: string } = {}) {
    this.endpoints = withWildcards(group, port);
    this.procNet = opts.procNet ?? '/proc/net';
    this.procSelf = opts.procSelf;
  }

  /** Lifetime drops; undefined when /proc/net is not readable (not Linux) or no socket was ever found. */
  async read(): Promise<number | undefined> {
    const table = await readTables(this.endpoints, this.procNet);
    // A failed read says nothing about which sockets exist: keep the last figure rather than retire them
    // (retiring a live socket and seeing it again would count its drops twice).
    if (table === undefined) return this.last;
    // Ownership is looked up only for sockets not seen before; once ours, a socket stays ours until it is
    // gone from the table.
    let owned: Set<number> | undefined;
    for (const s of table) {
      if (this.lastByInode.has(s.inode) || this.foreign.has(s.inode)) continue;
      owned ??= await ownSocketInodes(this.procSelf);
      if (!owned.has(s.inode)) this.foreign.add(s.inode);
    }
    const present = new Set<number>();
    let current = 0;
    for (const s of table) {
      // The same paging can also show an entry twice.
      if (present.has(s.inode)) continue;
      present.add(s.inode);
      if (this.foreign.has(s.inode)) continue;
      current += s.drops;
      this.lastByInode.set(s.inode, s.drops);
    }
    // A socket missing from this read is not necessarily closed: /proc/net/udp is produced in pages, and
    // sockets created or closed meanwhile (a flood from many short-lived sockets) can make an entry skip a
    // read. Only a socket whose descriptor has left this process is retired; otherwise its last figure stands.
    let stillOpen: Set<number> | undefined;
    for (const [inode, drops] of this.lastByInode) {
      if (present.has(inode)) continue;
      stillOpen ??= owned ?? (await ownSocketInodes(this.procSelf));
      if (stillOpen.has(inode)) {
        current += drops;
      } else {
        this.retired += drops;
        this.lastByInode.delete(inode);
      }
    }
    for (const inode of this.foreign) if (!present.has(inode)) this.foreign.delete(inode);
    if (this.lastByInode.size === 0 && this.retired === 0) return this.last;
    // Never backwards, whatever the kernel reports (an inode number reused by a new socket, say).
    this.last = Math.max(this.last ?? 0, this.retired + current);
    return this.last;
  }
}
