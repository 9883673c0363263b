import type { Socket } from 'node:dgram';
import { errorCode } from '../errors.js';
import type { MembershipStatus } from '../types.js';
import type { ResolvedInterface } from './interfaces.js';

/** What one reconcile pass did to one membership. */
/** `rejoined`: it had been joined, the kernel lost it (interface re-created), and this pass restored it. */
export type JoinOutcome = 'joined' | 'rejoined' | 'kept' | 'failed' | 'left';

export interface JoinChange {
  status: MembershipStatus;
  outcome: JoinOutcome;
  error: unknown;
}

interface Held {
  status: MembershipStatus;
  /** The interface address the kernel has the membership under, while joined. */
  joinedWith: string | undefined;
}

/**
 * The group memberships of one socket. `reconcile` is idempotent and cheap, so it runs on a timer: asking
 * the kernel to join a group it already holds fails with EADDRINUSE, which proves the membership is still in
 * place without dropping it (no gap in reception, no IGMP/MLD leave); any other outcome means it was lost
 * (interface deleted and re-created, address changed) and the join just made restores it.
 */
export class MembershipSet {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly socket: Socket,
    private readonly group: string,
  ) {}

  /**
   * Joins on every interface in `wanted` (undefined: the kernel's choice), then leaves the ones gone: joins
   * first, so that a change of interfaces (a reload) leaves no moment without a membership. A membership the
   * kernel holds for one address is shared by every spec naming it ('lo' and '127.0.0.1'): it is dropped only
   * when no wanted spec still uses it.
   */
  reconcile(wanted: readonly ResolvedInterface[] | undefined): JoinChange[] {
    const changes: JoinChange[] = [];
    const targets: readonly ResolvedInterface[] = wanted ?? [
      { spec: 'default', name: undefined, ifindex: undefined, address: undefined, error: undefined },
    ];
    for (const target of targets) changes.push(this.joinOne(target));
    const keep = new Set(targets.map((t) => t.spec));
    for (const [spec, h] of this.held) {
      if (keep.has(spec)) continue;
      this.held.delete(spec);
      const shared = [...this.held.values()].some((o) => o.status.joined && o.joinedWith === h.joinedWith);
      if (!shared) this.leave(h);
      changes.push({ status: { ...h.status, joined: false }, outcome: 'left', error: undefined });
    }
    return changes;
  }

  private joinOne(target: ResolvedInterface): JoinChange {
    let h = this.held.get(target.spec);
    if (h === undefined) {
      h = {
        status: { interface: target.spec, address: target.address, joined: false, error: undefined },
        joinedWith: undefined,
      };
      this.held.set(target.spec, h);
    }
    const wasJoined = h.status.joined;
    if (h.joinedWith !== undefined && h.joinedWith !== target.address) this.leave(h);
    if (target.error !== undefined) {
      h.status = { interface: target.spec, address: target.address, joined: false, error: target.error };
      return { status: h.status, outcome: 'failed', error: undefined };
    }
    try {
      if (target.address === undefined) this.socket.addMembership(this.group);
      else this.socket.addMembership(this.group, target.address);
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'EADDRINUSE') {
        h.status = { interface: target.spec, address: target.address, joined: false, error: code };
        return { status: h.status, outcome: 'failed', error: err };
      }
      h.joinedWith = target.address;
      h.status = { interface: target.spec, address: target.address, joined: true, error: undefined };
      return { status: h.status, outcome: 'kept', error: undefined };
    }
    h.joinedWith = target.address;
    h.status = { interface: target.spec, address: target.address, joined: true, error: undefined };
    return { status: h.status, outcome: wasJoined ? 'rejoined' : 'joined', error: undefined };
  }

  private leave(h: Held): void {
    try {
      if (h.joinedWith === undefined) this.socket.dropMembership(this.group);
      else this.socket.dropMembership(this.group, h.joinedWith);
    } catch {
      // Already gone with its interface: nothing to undo.
    }
    h.joinedWith = undefined;
  }

  /** Leaves every group (before closing the socket, so the kernel sends the leave reports at once). */
  leaveAll(): void {
    for (const h of this.held.values()) if (h.status.joined) this.leave(h);
    this.held.clear();
  }

  statuses(): MembershipStatus[] {
    return [...this.held.values()].map((h) => ({ ...h.status }));
  }
}
