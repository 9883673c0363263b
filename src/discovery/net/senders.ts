/**
 * A publisher's sockets: one unbound socket per interface it sends on, each with its multicast interface
 * applied and a status per interface (kept while the socket is re-created, so a problem is reported once per
 * change). The life cycle (open, re-create with backoff, close) is the shared SocketSet; the send path and its
 * counters are the publisher's, which tells this side what a failed send means for the socket.
 */
import type { Socket } from 'node:dgram';
import { errorCode } from '../errors.js';
import type { MembershipStatus, SocketProblem } from '../types.js';
import type { Endpoint } from './endpoint.js';
import { needsScope, type ResolvedInterface, resolveInterfaces } from './interfaces.js';
import { openSocket } from './socket.js';
import { type OpenSocket, SocketSet } from './socket-set.js';

/** What the senders need of their publisher. */
export interface SendersHost {
  readonly interfaces: 'all' | string[];
  readonly ttl: number;
  readonly loopback: boolean;
  readonly reconcileIntervalMs: number;
  problem(
    operation: SocketProblem['operation'],
    err: unknown,
    iface: string,
    retryInMs: number | undefined,
  ): void;
}

/** One socket ready to send: its interface key, where its datagrams go, and whether it may send. */
export interface Sending {
  readonly key: string;
  readonly socket: Socket;
  readonly destination: string;
  readonly status: MembershipStatus | undefined;
}

// Send errors after which the sending interface is looked up and applied again.
const INTERFACE_ERRORS = new Set([
  'ENODEV',
  'EADDRNOTAVAIL',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EINVAL',
]);
// Send errors after which the socket itself is replaced.
const SOCKET_ERRORS = new Set(['EBADF', 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'ENOTSOCK']);

export class Senders {
  private sockets: SocketSet<ResolvedInterface, OpenSocket>;
  private readonly statuses = new Map<string, MembershipStatus>();
  private readonly bareGroup: string;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly host: SendersHost,
  ) {
    this.bareGroup = endpoint.group.split('%')[0] ?? endpoint.group;
    this.sockets = this.socketSet();
  }

  /** Opens a socket per interface and applies each one's interface. Rejects, leaving nothing open. */
  async start(): Promise<void> {
    const targets = this.plan();
    this.sockets = this.socketSet();
    try {
      await this.sockets.start(targets);
    } catch (err) {
      this.statuses.clear();
      throw err;
    }
    this.sockets.reconcile(targets);
  }

  /** Re-resolves interfaces and re-applies each socket's multicast interface; opens and closes as needed. */
  reconcile(): void {
    this.sockets.reconcile(this.plan());
  }

  statusList(): MembershipStatus[] {
    return [...this.statuses.values()].map((s) => ({ ...s }));
  }

  *open(): IterableIterator<Sending> {
    for (const [key, { socket }, target] of this.sockets.entries()) {
      yield { key, socket, destination: this.destination(target), status: this.statuses.get(key) };
    }
  }

  /** What a failed send means here: a broken socket is replaced, a vanished interface looked up again. */
  sendFailed(key: string, socket: Socket, err: unknown): void {
    const code = errorCode(err);
    if (SOCKET_ERRORS.has(code)) {
      this.sockets.lost(key, socket, err);
    } else if (INTERFACE_ERRORS.has(code)) {
      // The interface may have been re-created or renumbered: look it up again before the next send.
      const target = this.resolve().find((t) => t.spec === key);
      const status = this.statuses.get(key);
      if (target && status) {
        this.statuses.set(key, { ...status, joined: false, error: code });
        this.sockets.update(key, target);
      }
    }
  }

  async close(): Promise<void> {
    this.statuses.clear();
    await this.sockets.close();
  }

  private resolve(): ResolvedInterface[] {
    const interfaces = this.host.interfaces;
    if (interfaces !== 'all' && interfaces.length === 0) {
      return [{ spec: 'default', name: undefined, ifindex: undefined, address: undefined, error: undefined }];
    }
    return resolveInterfaces(interfaces, this.endpoint.family);
  }

  /** The interfaces to send on, each with its status (kept across passes, so a problem is reported once). */
  private plan(): Map<string, ResolvedInterface> {
    const targets = new Map(this.resolve().map((t) => [t.spec, t]));
    for (const key of this.statuses.keys()) if (!targets.has(key)) this.statuses.delete(key);
    for (const [key, t] of targets) {
      if (!this.statuses.has(key))
        this.statuses.set(key, { interface: key, address: t.address, joined: false, error: undefined });
    }
    return targets;
  }

  private socketSet(): SocketSet<ResolvedInterface, OpenSocket> {
    return new SocketSet<ResolvedInterface, OpenSocket>(
      {
        open: (key) => this.openSender(key),
        apply: (open, target) => {
          this.applyInterface(open, target);
          return false;
        },
        retrying: (key, err, retryInMs) => this.host.problem('bind', err, key, retryInMs),
      },
      { maxBackoffMs: Math.max(1000, this.host.reconcileIntervalMs * 4) },
    );
  }

  /** Where datagrams go: link-scope IPv6 groups carry the interface as the destination's scope. */
  private destination(target: ResolvedInterface): string {
    return needsScope(this.bareGroup) && target.name !== undefined
      ? `${this.bareGroup}%${target.name}`
      : this.endpoint.group;
  }

  private async openSender(key: string): Promise<OpenSocket> {
    const socket = await openSocket({
      family: this.endpoint.family,
      address: undefined,
      port: 0,
      reuseAddr: false,
    });
    socket.setMulticastTTL(this.host.ttl);
    socket.setMulticastLoopback(this.host.loopback);
    socket.on('error', (err) => this.host.problem('send', err, key, undefined));
    return { socket };
  }

  private applyInterface({ socket }: OpenSocket, target: ResolvedInterface): void {
    const previous = this.statuses.get(target.spec);
    const setStatus = (status: MembershipStatus) => this.statuses.set(target.spec, status);
    if (target.error !== undefined) {
      setStatus({ interface: target.spec, address: undefined, joined: false, error: target.error });
      if (previous?.error !== target.error) {
        this.host.problem(
          'setInterface',
          Object.assign(
            new Error(
              `interface '${target.spec}' ${target.error === 'ENODEV' ? 'does not exist' : `has no ${this.endpoint.family} address`}`,
            ),
            {
              code: target.error,
            },
          ),
          target.spec,
          this.host.reconcileIntervalMs,
        );
      }
      return;
    }
    if (target.address === undefined) {
      setStatus({ interface: target.spec, address: undefined, joined: true, error: undefined });
      return;
    }
    try {
      socket.setMulticastInterface(target.address);
      setStatus({ interface: target.spec, address: target.address, joined: true, error: undefined });
    } catch (err) {
      const code = errorCode(err);
      setStatus({ interface: target.spec, address: target.address, joined: false, error: code });
      if (previous?.error !== code)
        this.host.problem('setInterface', err, target.spec, this.host.reconcileIntervalMs);
    }
  }
}
