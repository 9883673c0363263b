/**
 * The socket life cycle a listener and a publisher share: one socket per interface (or one for all), each
 * opened, brought in line with what it is for, re-created with backoff when it cannot be opened or breaks,
 * and closed when its interface goes away. What differs between the two is passed in: how a socket is opened
 * and bound, what "in line" means (group memberships for a listener, the sending interface for a publisher),
 * and how a retry is reported. Their per-datagram paths never pass through here.
 */
import type { Socket } from 'node:dgram';
import { Backoff } from './backoff.js';
import { closeSocket } from './socket.js';

/** What the owner keeps per open socket (at least the socket). */
export interface OpenSocket {
  readonly socket: Socket;
}

export interface SocketSetOwner<P, S extends OpenSocket> {
  /** Opens and binds the socket for `plan`; rejects with a VaultMulticastError. */
  open(key: string, plan: P): Promise<S>;
  /**
   * Brings an open socket in line with its plan. True asks for the socket to be replaced now (a listener whose
   * membership a re-created interface broke); ignored right after the socket was opened.
   */
  apply(open: S, plan: P, key: string): boolean;
  /** Whether a socket opened earlier still serves `plan` (a listener's interface re-created: no). */
  keeps?(open: S, plan: P): boolean;
  /** Just before a socket closes for good: leave its memberships, so the kernel reports the leave at once. */
  retire?(open: S): void;
  /** The plan a retry opens with, looked up again when it fires; undefined skips this retry. */
  replan?(key: string): P | undefined;
  /** A socket could not be opened, or broke: it is tried again in `retryInMs`. */
  retrying(key: string, err: unknown, retryInMs: number): void;
}

export interface SocketSetOptions {
  /** Longest wait between attempts to re-create one socket. */
  maxBackoffMs: number;
  /** A socket closed by anything but this set is re-created (a listener's; a publisher finds out on send). */
  reopenOnClose?: boolean;
}

interface Slot<P, S> {
  readonly key: string;
  plan: P;
  open: S | undefined;
  opening: boolean;
  readonly backoff: Backoff;
}

export class SocketSet<P, S extends OpenSocket> {
  private readonly slots = new Map<string, Slot<P, S>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly owner: SocketSetOwner<P, S>,
    private readonly options: SocketSetOptions,
  ) {}

  /**
   * Opens one socket per plan, in order, without applying the plans (reconcile() does). Rejects with the
   * first failure, leaving nothing open. When the set is closed meanwhile, what was opened is closed.
   */
  async start(plans: ReadonlyMap<string, P>): Promise<void> {
    try {
      for (const [key, plan] of plans) {
        const slot = this.slotFor(key, plan);
        const open = await this.owner.open(key, plan);
        if (this.closed) {
          void closeSocket(open.socket);
          return;
        }
        this.adopt(slot, open);
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * Brings the sockets in line with `plans`: closes those whose key is gone, opens the missing ones at once
   * (a pending retry notwithstanding), re-creates those that no longer serve their plan, applies the rest.
   */
  reconcile(plans: ReadonlyMap<string, P>): void {
    if (this.closed) return;
    for (const [key, slot] of this.slots) {
      if (plans.has(key)) continue;
      this.slots.delete(key);
      if (slot.open) this.retireAndClose(slot.open);
    }
    for (const [key, plan] of plans) {
      const slot = this.slotFor(key, plan);
      slot.plan = plan;
      if (slot.open === undefined) {
        if (!slot.opening) this.openNow(slot);
      } else if (this.owner.keeps?.(slot.open, plan) === false) {
        this.reopen(key);
      } else if (this.owner.apply(slot.open, plan, key)) {
        this.reopen(key);
      }
    }
  }

  /** Applies a new plan to one socket now (a publisher's interface looked up again after a send error). */
  update(key: string, plan: P): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    slot.plan = plan;
    if (slot.open) this.owner.apply(slot.open, plan, key);
  }

  /** Replaces a socket now: closes it (leaving its memberships) and opens a new one for the same plan. */
  reopen(key: string): void {
    const slot = this.slots.get(key);
    if (!slot || this.closed) return;
    if (slot.open) this.retireAndClose(slot.open);
    slot.open = undefined;
    if (!slot.opening) this.openNow(slot);
  }

  /**
   * `socket` broke: closed, and opened again after a backoff delay (reported through retrying()). Nothing
   * happens when it is no longer the key's socket (a second failed send on it, or already replaced).
   */
  lost(key: string, socket: Socket, err: unknown): void {
    const slot = this.slots.get(key);
    if (!slot || this.closed || slot.open?.socket !== socket) return;
    void closeSocket(socket);
    slot.open = undefined;
    this.retry(slot, err);
  }

  /** The open sockets with their keys and plans. */
  *entries(): IterableIterator<[key: string, open: S, plan: P]> {
    for (const slot of this.slots.values()) if (slot.open) yield [slot.key, slot.open, slot.plan];
  }

  /** The open sockets. */
  *opened(): IterableIterator<S> {
    for (const slot of this.slots.values()) if (slot.open) yield slot.open;
  }

  /** Every key with its plan, opened or not. */
  *plans(): IterableIterator<[key: string, plan: P]> {
    for (const slot of this.slots.values()) yield [slot.key, slot.plan];
  }

  /** Leaves every socket's memberships and keeps the sockets open (a listener's move drains them first). */
  retireAll(): void {
    for (const open of this.opened()) this.owner.retire?.(open);
  }

  /** Stops every retry, leaves and closes every socket. The set is done; a restart makes a new one. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closing: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      if (slot.open) {
        this.owner.retire?.(slot.open);
        closing.push(closeSocket(slot.open.socket));
      }
      slot.open = undefined;
    }
    this.slots.clear();
    await Promise.all(closing);
  }

  private slotFor(key: string, plan: P): Slot<P, S> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {
        key,
        plan,
        open: undefined,
        opening: false,
        backoff: new Backoff(250, this.options.maxBackoffMs),
      };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private adopt(slot: Slot<P, S>, open: S): void {
    slot.open = open;
    slot.backoff.reset();
    if (!this.options.reopenOnClose) return;
    open.socket.on('close', () => {
      if (this.closed || this.slots.get(slot.key) !== slot || slot.open !== open) return;
      // Closed under us (not by this set): bring it back.
      slot.open = undefined;
      this.retry(slot, new Error('socket closed unexpectedly'));
    });
  }

  private openNow(slot: Slot<P, S>): void {
    slot.opening = true;
    this.owner.open(slot.key, slot.plan).then(
      (open) => {
        slot.opening = false;
        if (this.closed || this.slots.get(slot.key) !== slot) {
          void closeSocket(open.socket);
          return;
        }
        this.adopt(slot, open);
        this.owner.apply(open, slot.plan, slot.key);
      },
      (err: unknown) => {
        slot.opening = false;
        if (!this.closed && this.slots.get(slot.key) === slot) this.retry(slot, err);
      },
    );
  }

  private retry(slot: Slot<P, S>, err: unknown): void {
    const delay = slot.backoff.next();
    this.owner.retrying(slot.key, err, delay);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed || this.slots.get(slot.key) !== slot || slot.open || slot.opening) return;
      let plan: P | undefined;
      try {
        plan = this.owner.replan ? this.owner.replan(slot.key) : slot.plan;
      } catch (err) {
        // Looking the interface up can fail too (EMFILE when descriptors run out): try again later, never
        // throw from a timer.
        this.retry(slot, err);
        return;
      }
      if (plan === undefined) return;
      slot.plan = plan;
      this.openNow(slot);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private retireAndClose(open: S): void {
    this.owner.retire?.(open);
    void closeSocket(open.socket);
  }
}
