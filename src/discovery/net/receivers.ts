/**
 * A listener's sockets on one group and port: which sockets should exist (one bound to the group, or one per
 * interface for a link-scope IPv6 group, so groups sharing a port stay apart), their memberships per
 * interface, the interfaces that do not resolve, and what each problem is reported as. The life cycle (open,
 * re-create with backoff, close) is the shared SocketSet; the receive path is the listener's. A move to
 * another group or port builds a second Receivers and retires the first.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { errorCode, errorMessage } from '../errors.js';
import type { MembershipStatus, SocketProblem } from '../types.js';
import type { Endpoint } from './endpoint.js';
import { needsScope, type ResolvedInterface, resolveInterfaces } from './interfaces.js';
import { MembershipSet } from './membership.js';
import { countReads } from './read-backlog.js';
import { describeSocketError, openSocket } from './socket.js';
import { SocketSet } from './socket-set.js';

/** What the receivers need of their listener. */
export interface ReceiversHost {
  /** The interfaces as configured now ('all', names or addresses; empty for the kernel's choice). */
  interfaces(): 'all' | string[];
  readonly reuseAddr: boolean;
  readonly reconcileIntervalMs: number;
  /** The receive path. */
  readonly onDatagram: (msg: Buffer, rinfo: RemoteInfo) => void;
  /** A socket was bound (size its receive buffer). */
  bound(socket: Socket): void;
  problem(p: SocketProblem): void;
  warning(message: string): void;
  /** While a move binds its new sockets, retries of the old ones wait. */
  moving(): boolean;
}

/** One socket: the shared one bound to the group, or one per interface for link-scope IPv6 groups. */
interface Receiver {
  readonly key: string;
  readonly bindAddress: string;
  readonly ifindex: number | undefined;
  readonly socket: Socket;
  readonly memberships: MembershipSet;
}

/** What should exist right now: which sockets, bound where, joined on which interfaces. */
interface PlanEntry {
  key: string;
  bindAddress: string | undefined;
  ifindex: number | undefined;
  targets: ResolvedInterface[] | undefined;
  unresolved: ResolvedInterface | undefined;
}

export class Receivers {
  private readonly sockets: SocketSet<PlanEntry, Receiver>;
  private readonly unresolved = new Map<string, MembershipStatus>();
  /** The group without a scope suffix, as memberships name it. */
  private readonly bareGroup: string;
  private warnedScope = false;

  constructor(
    readonly endpoint: Endpoint,
    private readonly host: ReceiversHost,
  ) {
    this.bareGroup = endpoint.group.split('%')[0] ?? endpoint.group;
    this.sockets = new SocketSet<PlanEntry, Receiver>(
      {
        open: (_key, entry) => this.createReceiver(entry),
        apply: (receiver, entry) => this.join(receiver, entry),
        // Its interface was re-created under the same name: a socket bound to the old index is deaf.
        keeps: (receiver, entry) => entry.ifindex === undefined || receiver.ifindex === entry.ifindex,
        retire: (receiver) => receiver.memberships.leaveAll(),
        replan: (key) => (host.moving() ? undefined : bindable(this.plan()).get(key)),
        retrying: (key, err, retryInMs) =>
          host.problem({
            operation: 'bind',
            code: errorCode(err),
            message: errorMessage(err),
            interface: key === '*' ? undefined : key,
            retryInMs,
          }),
      },
      { maxBackoffMs: Math.max(1000, host.reconcileIntervalMs * 4), reopenOnClose: true },
    );
  }

  /** Binds the sockets without joining (reconcile() joins). Rejects, leaving nothing open, when one fails. */
  async start(): Promise<void> {
    try {
      await this.sockets.start(bindable(this.plan()));
    } catch (err) {
      this.unresolved.clear();
      throw err;
    }
  }

  /** Brings sockets and memberships in line with the interfaces as they are now: create, re-create, close, join, leave. */
  reconcile(): void {
    const plan = this.plan();
    const keys = new Set(plan.map((p) => p.key));
    for (const key of this.unresolved.keys()) if (!keys.has(key)) this.unresolved.delete(key);
    for (const entry of plan) {
      if (entry.unresolved !== undefined) this.markUnresolved(entry.unresolved);
      else this.unresolved.delete(entry.key);
    }
    this.sockets.reconcile(bindable(plan));
  }

  /** Group membership per interface, as of the last reconcile pass. */
  memberships(): MembershipStatus[] {
    const out: MembershipStatus[] = [];
    for (const r of this.sockets.opened()) out.push(...r.memberships.statuses());
    for (const s of this.unresolved.values()) out.push({ ...s });
    return out;
  }

  *boundSockets(): IterableIterator<Socket> {
    for (const r of this.sockets.opened()) yield r.socket;
  }

  /** Leaves the group on every interface, keeping the sockets open to read what the kernel queued. */
  retireAll(): void {
    this.sockets.retireAll();
  }

  async close(): Promise<void> {
    this.unresolved.clear();
    await this.sockets.close();
  }

  /** Which sockets should exist given the interfaces as they are now. */
  private plan(): PlanEntry[] {
    const { group, port, family } = this.endpoint;
    const interfaces = this.host.interfaces();
    const named = interfaces === 'all' || interfaces.length > 0;
    const resolved = named ? resolveInterfaces(interfaces, family) : undefined;
    if (!needsScope(this.bareGroup)) {
      return [{ key: '*', bindAddress: group, ifindex: undefined, targets: resolved, unresolved: undefined }];
    }
    if (resolved === undefined) {
      // A link-scope group without an interface: bind the wildcard so it works at all, and say what it costs.
      if (!this.warnedScope) {
        this.warnedScope = true;
        queueMicrotask(() =>
          this.host.warning(
            `${group} is a link-scope group and no interface was named: bound to [::]:${port}, so ` +
              'datagrams of other groups joined on this port are received too; name the interface to isolate it',
          ),
        );
      }
      return [{ key: '*', bindAddress: '::', ifindex: undefined, targets: undefined, unresolved: undefined }];
    }
    return resolved.map((r) => ({
      key: r.spec,
      bindAddress: r.error === undefined && r.name !== undefined ? `${this.bareGroup}%${r.name}` : undefined,
      ifindex: r.ifindex,
      targets: [r],
      unresolved: r.error === undefined ? undefined : r,
    }));
  }

  private async createReceiver(entry: PlanEntry): Promise<Receiver> {
    const socket = await openSocket({
      family: this.endpoint.family,
      address: entry.bindAddress,
      port: this.endpoint.port,
      reuseAddr: this.host.reuseAddr,
    });
    this.host.bound(socket);
    countReads(socket, this.host.onDatagram);
    socket.on('error', (err) =>
      this.host.problem({
        operation: 'receive',
        code: errorCode(err),
        message: describeSocketError(`receive on ${this.endpoint.where}`, err),
        interface: entry.key === '*' ? undefined : entry.key,
        retryInMs: undefined,
      }),
    );
    return {
      key: entry.key,
      bindAddress: entry.bindAddress ?? '',
      ifindex: entry.ifindex,
      socket,
      memberships: new MembershipSet(socket, this.bareGroup),
    };
  }

  private unresolvedMessage(spec: string, code: string | undefined): string {
    const why = code === 'ENODEV' ? 'no such interface' : `it has no ${this.endpoint.family} address`;
    return `cannot join ${this.endpoint.group} on '${spec}': ${why} (${code ?? 'UNKNOWN'})`;
  }

  private markUnresolved(r: ResolvedInterface): void {
    const previous = this.unresolved.get(r.spec);
    const status: MembershipStatus = { interface: r.spec, address: undefined, joined: false, error: r.error };
    this.unresolved.set(r.spec, status);
    if (previous?.error === r.error) return;
    this.host.problem({
      operation: 'join',
      code: r.error ?? 'UNKNOWN',
      message: this.unresolvedMessage(r.spec, r.error),
      interface: r.spec,
      retryInMs: this.host.reconcileIntervalMs,
    });
  }

  /**
   * Restores the receiver's memberships. A membership the kernel lost with its interface re-created under the
   * same address leaves a dead entry on the socket that no leave can remove (a leave by address resolves to
   * the new interface), and Linux allows a socket 20 IPv4 memberships: so after such a loss the socket is
   * replaced (true asks the socket set to), which starts its list clean. Joins refused for being over that
   * limit (ENOBUFS, more interfaces than igmp_max_memberships) are only reported: replacing would not help.
   */
  private join(receiver: Receiver, entry: PlanEntry): boolean {
    const before = new Map(receiver.memberships.statuses().map((s) => [s.interface, s]));
    let replace = false;
    for (const change of receiver.memberships.reconcile(entry.targets)) {
      const name = change.status.interface;
      if (change.outcome === 'failed') {
        if (before.get(name)?.error === change.status.error) continue;
        this.host.problem({
          operation: 'join',
          code: change.status.error ?? 'UNKNOWN',
          message:
            change.error === undefined
              ? this.unresolvedMessage(name, change.status.error)
              : describeSocketError(`cannot join ${this.endpoint.group} on '${name}'`, change.error),
          interface: name === 'default' ? undefined : name,
          retryInMs: this.host.reconcileIntervalMs,
        });
      } else if (change.outcome === 'rejoined') {
        replace = true;
        this.host.warning(
          `membership of ${this.endpoint.group} on '${name}' was lost (interface re-created) and restored`,
        );
      }
    }
    return replace;
  }
}

/** The plan entries that get a socket (an interface that does not resolve gets only a status). */
function bindable(plan: PlanEntry[]): Map<string, PlanEntry> {
  return new Map(plan.filter((e) => e.unresolved === undefined).map((e) => [e.key, e]));
}
