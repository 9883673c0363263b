/**
 * Admission by source address, before anything else looks at a datagram: an allowlist of networks and, as
 * avahi does since CVE-2017-6519, an on-link rule that drops what did not come from a network this host sits
 * on. Node's dgram does not report the receiving interface (no IP_PKTINFO), so "on-link" means on a network
 * of any interface of this host; with a TTL-2 sender one router away that still keeps out the rest of the
 * internet, which is the point of the rule.
 */
import { networkInterfaces } from 'node:os';
import type { DropReason } from '../drop-reasons.js';
import type { ReceiveGuard, SourceInfo } from '../types.js';
import { anyContains, type Network, parseAddress, parseNetwork } from './cidr.js';

/** The host's networks; os.networkInterfaces() in production, a fixed list in tests. */
export type LocalNetworksProvider = () => readonly string[];

export const systemLocalNetworks: LocalNetworksProvider = () => {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.cidr) out.push(a.cidr);
  }
  return out;
};

export interface SourceFilterOptions {
  /** CIDR networks (or single addresses) allowed; empty: any. */
  allowSources?: readonly string[];
  onLinkOnly?: boolean;
  localNetworks?: LocalNetworksProvider;
  /** How often the host's networks are read again, so an address change is picked up (ms). */
  refreshIntervalMs?: number;
}

export const DEFAULT_LOCAL_NETWORKS_REFRESH_MS = 10_000;

export class SourceFilterGuard implements ReceiveGuard {
  readonly name = 'source-filter';
  private readonly allow: readonly Network[];
  private readonly onLinkOnly: boolean;
  private readonly provider: LocalNetworksProvider;
  private readonly refreshMs: number;
  private local: readonly Network[] = [];
  private refreshedAt = Number.NEGATIVE_INFINITY;
  private readonly scratch = new Uint32Array(4);

  constructor(opts: SourceFilterOptions) {
    this.allow = (opts.allowSources ?? []).map(parseNetwork);
    this.onLinkOnly = opts.onLinkOnly ?? false;
    this.provider = opts.localNetworks ?? systemLocalNetworks;
    this.refreshMs = opts.refreshIntervalMs ?? DEFAULT_LOCAL_NETWORKS_REFRESH_MS;
    if (this.onLinkOnly) this.refresh(Number.NEGATIVE_INFINITY);
  }

  /** True when this guard would drop nothing (no rules): callers leave it out of the chain. */
  get isNoop(): boolean {
    return this.allow.length === 0 && !this.onLinkOnly;
  }

  /** The host's networks as last read, for status pages and tests. */
  get localNetworks(): readonly string[] {
    return this.local.map((n) => n.text);
  }

  check(_bytes: Buffer, source: SourceInfo, nowMonoMs: number): DropReason | undefined {
    const addr = this.scratch;
    if (parseAddress(source.address, addr) === 0) return 'source_denied';
    if (this.allow.length > 0 && !anyContains(this.allow, addr)) return 'source_denied';
    if (this.onLinkOnly) {
      if (nowMonoMs - this.refreshedAt >= this.refreshMs) this.refresh(nowMonoMs);
      if (!anyContains(this.local, addr)) return 'source_denied';
    }
    return undefined;
  }

  private refresh(nowMonoMs: number): void {
    this.refreshedAt = nowMonoMs;
    let cidrs: readonly string[];
    try {
      cidrs = this.provider();
    } catch {
      // Keep the networks last read: failing open here would let strangers in, failing closed would cut off
      // every announcement over a transient error.
      return;
    }
    const nets: Network[] = [];
    for (const c of cidrs) {
      try {
        nets.push(parseNetwork(c));
      } catch {
        // An interface address we cannot read (unlikely from the kernel) is simply not on-link.
      }
    }
    this.local = nets;
  }
}
