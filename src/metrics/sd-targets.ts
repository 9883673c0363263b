/**
 * Prometheus HTTP service discovery (`/api/v1/sd`): the scrape targets that the services of the registries
 * announce (`metrics_port`), read at request time, and how many the target rule withholds (a metric). A view
 * over the library for Prometheus, as the exporters are.
 */
import { isIP } from 'node:net';
import { anyContains, type Network, parseAddress, parseNetwork } from '../discovery/security/cidr.js';
import type { ServiceRecord } from '../discovery/types.js';
import type { AgentState, ListenerEntry } from './state.js';
import { TimeSlicer } from './time-slicer.js';

export interface SdTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:port` for a scrape target, or undefined when the announced host is not an address or host name. */
export function scrapeTarget(host: string, port: number): string | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 6) return `[${bare}]:${port}`;
  if (family === 4 || HOSTNAME.test(bare)) return `${bare}:${port}`;
  return undefined;
}

const LINK_LOCAL_OR_LOOPBACK = [
  '127.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  'fe80::/10',
  '::ffff:127.0.0.0/104',
].map(parseNetwork);

/** Networks parsed once per distinct allowlist (the config's array is the same object until a reload). */
let parsedAllow: { list: readonly string[]; nets: Network[] } | undefined;
function allowNetworks(list: readonly string[]): Network[] {
  if (parsedAllow?.list !== list) parsedAllow = { list, nets: list.map(parseNetwork) };
  return parsedAllow.nets;
}

function inNetworks(nets: readonly Network[], host: string): boolean {
  const addr = new Uint32Array(4);
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return parseAddress(bare, addr) !== 0 && anyContains(nets, addr);
}

/**
 * The host Prometheus may scrape for `rec`, or undefined to withhold it. Anyone on the LAN can announce any
 * host, so the target is the datagram's source address unless the announced host is inside
 * `sd.allowedTargets`; loopback and link-local targets (the metadata service at 169.254.169.254, the
 * Prometheus host itself) are offered only when allowed there.
 */
export function sdTargetHost(rec: ServiceRecord, allowed: readonly Network[]): string | undefined {
  if (inNetworks(allowed, rec.host)) return rec.host;
  const source = rec.source;
  if (inNetworks(LINK_LOCAL_OR_LOOPBACK, source) && !inNetworks(allowed, source)) return undefined;
  return source;
}

/** The services this agent announces itself, as `type name addr`. */
function ownServices(state: AgentState): Set<string> {
  const own = new Set<string>();
  for (const { publisher } of state.publishers()) {
    const m = publisher.message;
    if (typeof m === 'object') own.add(`${String(m.type)}\0${String(m.name)}\0${String(m.addr)}`);
  }
  return own;
}

/**
 * Calls `visit` for every up service that announces `metrics_port` and is not the agent's own, with the host
 * Prometheus would be offered for it (undefined: withheld by the target rule above). The walk is sliced.
 */
async function eachCandidate(
  state: AgentState,
  slicer: TimeSlicer,
  visit: (entry: ListenerEntry, rec: ServiceRecord, metricsPort: number, host: string | undefined) => void,
): Promise<void> {
  const own = ownServices(state);
  const allowed = allowNetworks(state.sdAllowedTargets ?? []);
  for (const entry of state.listeners()) {
    for (const rec of entry.listener.registry.services()) {
      if (slicer.due()) await slicer.yield();
      if (rec.state !== 'up' || rec.metricsPort === undefined) continue;
      if (own.has(`${rec.type}\0${rec.name}\0${rec.addr}`)) continue;
      visit(entry, rec, rec.metricsPort, sdTargetHost(rec, allowed));
    }
  }
}

/**
 * Prometheus HTTP service discovery: one target group per up service that announces `metrics_port`. A target
 * seen by several listeners is listed once (the first listener in configuration order). The agent's own
 * announcements are left out: a Prometheus that scrapes the agent in its own job would scrape it twice
 * (other agents' announcements stay; docs/monitoring.md shows the relabel rule that drops them). The agent
 * never connects to these addresses; Prometheus does, if the operator points it here.
 */
export async function sdTargetGroups(
  state: AgentState,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<SdTargetGroup[]> {
  const seen = new Set<string>();
  const groups: SdTargetGroup[] = [];
  await eachCandidate(state, slicer, (entry, rec, metricsPort, host) => {
    const target = host === undefined ? undefined : scrapeTarget(host, metricsPort);
    if (target === undefined || seen.has(target)) return;
    seen.add(target);
    groups.push({
      targets: [target],
      labels: {
        __meta_vault_multicast_service_type: rec.type,
        __meta_vault_multicast_service_name: rec.name,
        __meta_vault_multicast_listener: entry.name,
        __meta_vault_multicast_address: rec.addr,
        __meta_vault_multicast_version: rec.version ?? '',
      },
    });
  });
  return groups;
}

/** How many services the target rule withholds (sd_targets_withheld): counted, no group built. */
export async function sdTargetsWithheld(state: AgentState, slicer: TimeSlicer): Promise<number> {
  let withheld = 0;
  await eachCandidate(state, slicer, (_entry, _rec, _port, host) => {
    if (host === undefined) withheld++;
  });
  return withheld;
}
