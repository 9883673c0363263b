import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAnnouncement, encodeAnnouncement } from '../../src/discovery/codec.js';
import {
  MAX_SEQ_GAP,
  ServiceRegistry,
  type ServiceRegistryOptions,
  serviceKey,
} from '../../src/discovery/registry.js';
import type { Announcement, DownReason, ServiceConflict, ServiceRecord } from '../../src/discovery/types.js';
import { FakeClock } from '../harness/fake-clock.js';

const DAY = 86_400_000;

function announce(fields: Record<string, unknown>): Announcement {
  const r = decodeAnnouncement(encodeAnnouncement({ type: 'T', addr: 'h:1', ...fields }), { maxBytes: 1400 });
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.announcement;
}

type Event =
  | ['up' | 'update' | 'removed', string, string]
  | ['down', string, string, DownReason]
  | ['conflict', ServiceConflict];

function setup(options: ServiceRegistryOptions = {}) {
  const clock = new FakeClock();
  const reg = new ServiceRegistry({ clock, ...options });
  const events: Event[] = [];
  const tag = (r: ServiceRecord) => r.addr;
  reg.on('up', (r) => events.push(['up', tag(r), r.state]));
  reg.on('update', (r) => events.push(['update', tag(r), r.state]));
  reg.on('down', (r, why) => events.push(['down', tag(r), r.state, why]));
  reg.on('removed', (r) => events.push(['removed', tag(r), r.state]));
  reg.on('conflict', (c) => events.push(['conflict', c]));
  const take = () => events.splice(0, events.length);
  return { clock, reg, take };
}

const key = (addr: string, type = 'T') => serviceKey(type, addr);

describe('ServiceRegistry expiry', () => {
  it('cuts a sweep short at its deadline and goes on where it stopped, to the same end', () => {
    const n = 3000;
    const run = (sliced: boolean) => {
      const { clock, reg, take } = setup({ serviceTimeoutMs: 30_000, retentionMs: 10_000, maxServices: n });
      for (let i = 0; i < n; i++) reg.observe(announce({ addr: `10.0.${i >> 8}.${i & 255}:1` }), 's');
      clock.advance(15_000);
      // Half of them announce again: they are re-filed, the rest expire, all in one bucket's sweep.
      for (let i = 0; i < n; i += 2) reg.observe(announce({ addr: `10.0.${i >> 8}.${i & 255}:1` }), 's');
      take();
      const passes: boolean[] = [];
      for (const step of [15_000, 10_001, 20_000]) {
        clock.advance(step);
        // A deadline already past: each call does one batch, then gives up.
        if (sliced) for (let k = 0; k < 1000 && !reg.sweep(undefined, 0); k++) passes.push(false);
        passes.push(reg.sweep());
      }
      return { counts: reg.counts(), size: reg.size, events: take().length, cut: passes.length - 3 };
    };
    const whole = run(false);
    const sliced = run(true);
    expect(whole.cut).toBe(0);
    // 1,500 expire, then are forgotten, then the other 1,500 expire: batches of 256 each time.
    expect(sliced.cut).toBeGreaterThanOrEqual(10);
    expect(sliced.cut).toBeLessThan(40);
    expect({ ...sliced, cut: 0 }).toEqual({ ...whole, cut: 0 });
    expect(whole.counts).toEqual({ up: 0, stale: n / 2, gone: 0 });
  });

  it('keeps a service up until exactly the timeout, then marks it stale', () => {
    const { clock, reg, take } = setup({ serviceTimeoutMs: 30_000 });
    expect(reg.observe(announce({}), '192.0.2.1')).toBe('accepted');
    expect(take()).toEqual([['up', 'h:1', 'up']]);
    clock.advance(29_999);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('up');
    expect(take()).toEqual([]);
    clock.advance(1);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('stale');
    expect(take()).toEqual([['down', 'h:1', 'stale', 'expired']]);
    expect(reg.counts()).toEqual({ up: 0, stale: 1, gone: 0 });
    expect(reg.stats.expired).toBe(1);
    clock.advance(1);
    reg.sweep();
    expect(take()).toEqual([]);
    expect(reg.stats.expired).toBe(1);
  });

  it('expires a service swept only after its deadline', () => {
    const { clock, reg } = setup({ serviceTimeoutMs: 30_000 });
    reg.observe(announce({}), 's');
    clock.advance(30_001);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('stale');
  });

  it('restarts the timeout on every announcement', () => {
    const { clock, reg } = setup({ serviceTimeoutMs: 30_000 });
    for (let i = 0; i < 100; i++) {
      reg.observe(announce({}), 's');
      clock.advance(20_000);
      reg.sweep();
    }
    expect(reg.get(key('h:1'))?.state).toBe('up');
    expect(reg.get(key('h:1'))?.packets).toBe(100);
    clock.advance(10_000);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('stale');
  });

  it("uses the announcement's ttl instead of the timeout, shorter or longer", () => {
    const { clock, reg } = setup({ serviceTimeoutMs: 30_000 });
    reg.observe(announce({ addr: 'short:1', ttl: 5 }), 's');
    reg.observe(announce({ addr: 'long:1', ttl: 60 }), 's');
    clock.advance(4_999);
    reg.sweep();
    expect(reg.get(key('short:1'))?.state).toBe('up');
    clock.advance(1);
    reg.sweep();
    expect(reg.get(key('short:1'))?.state).toBe('stale');
    clock.advance(25_000);
    reg.sweep();
    expect(reg.get(key('long:1'))?.state).toBe('up');
    expect(reg.get(key('long:1'))?.ttlMs).toBe(60_000);
    clock.advance(30_000);
    reg.sweep();
    expect(reg.get(key('long:1'))?.state).toBe('stale');
  });

  it('brings the expiry forward when a later announcement has a shorter ttl', () => {
    const { clock, reg } = setup();
    reg.observe(announce({ ttl: 600 }), 's');
    clock.advance(1_000);
    reg.observe(announce({ ttl: 2 }), 's');
    clock.advance(1_999);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('up');
    clock.advance(1);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('stale');
  });

  it('expires sub-second ttls exactly', () => {
    const { clock, reg } = setup();
    reg.observe(announce({ ttl: 0.25 }), 's');
    clock.advance(249);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('up');
    clock.advance(1);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('stale');
  });

  it('uses the timeout for hand-made announcements with an unusable ttl', () => {
    const { clock, reg } = setup({ serviceTimeoutMs: 30_000 });
    for (const [i, ttl] of [Number.NaN, 0, -1, Number.POSITIVE_INFINITY].entries()) {
      reg.observe({ ...announce({ addr: `h:${i + 1}` }), ttl }, 's');
    }
    clock.advance(29_999);
    reg.sweep();
    expect(reg.counts().up).toBe(4);
    clock.advance(1);
    reg.sweep();
    expect(reg.counts()).toEqual({ up: 0, stale: 4, gone: 0 });
  });

  it('keeps a stale service for the retention window, then forgets it', () => {
    const { clock, reg, take } = setup({ serviceTimeoutMs: 30_000, retentionMs: 600_000 });
    reg.observe(announce({}), 's');
    clock.advance(30_000);
    reg.sweep();
    take();
    expect(reg.get(key('h:1'))?.forgetAtMonoMs).toBe(clock.mono + 600_000);
    clock.advance(599_999);
    reg.sweep();
    expect(reg.size).toBe(1);
    clock.advance(1);
    reg.sweep();
    expect(take()).toEqual([['removed', 'h:1', 'stale']]);
    expect(reg.get(key('h:1'))).toBeUndefined();
    expect(reg.size).toBe(0);
    expect(reg.counts()).toEqual({ up: 0, stale: 0, gone: 0 });
  });

  it('forgets at once with a zero retention', () => {
    const { clock, reg, take } = setup({ retentionMs: 0 });
    reg.observe(announce({}), 's');
    clock.advance(30_000);
    reg.sweep();
    expect(take().map((e) => e[0])).toEqual(['up', 'down', 'removed']);
    expect(reg.size).toBe(0);
  });

  it('counts a stale service that announces again as discovered again', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({}), 's');
    clock.advance(31_000);
    reg.sweep();
    take();
    reg.observe(announce({}), 's');
    expect(take()).toEqual([['up', 'h:1', 'up']]);
    const rec = reg.get(key('h:1'));
    expect(rec?.state).toBe('up');
    expect(rec?.forgetAtMonoMs).toBeUndefined();
    expect(rec?.packets).toBe(2);
    expect(reg.stats.discovered).toBe(2);
    expect(reg.counts()).toEqual({ up: 1, stale: 0, gone: 0 });
    // It is no longer on the way out: the old retention deadline passes without effect.
    clock.advance(20_000);
    reg.observe(announce({}), 's');
    clock.advance(600_000 - 20_000);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('stale');
  });
});

describe('ServiceRegistry goodbye', () => {
  it('marks a service gone at once and forgets it after the retention window', () => {
    const { clock, reg, take } = setup({ retentionMs: 10_000 });
    reg.observe(announce({}), 's');
    clock.advance(100);
    reg.observe(announce({ goodbye: true }), 's');
    expect(take()).toEqual([
      ['up', 'h:1', 'up'],
      ['down', 'h:1', 'gone', 'goodbye'],
    ]);
    expect(reg.counts()).toEqual({ up: 0, stale: 0, gone: 1 });
    expect(reg.stats).toMatchObject({ goodbyes: 1, expired: 0 });
    clock.advance(9_999);
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('gone');
    clock.advance(1);
    reg.sweep();
    expect(take()).toEqual([['removed', 'h:1', 'gone']]);
  });

  it('never expires a gone service as stale', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({}), 's');
    reg.observe(announce({ goodbye: true }), 's');
    take();
    clock.advance(30_000);
    reg.sweep();
    expect(take()).toEqual([]);
    expect(reg.stats.expired).toBe(0);
  });

  it('ignores a goodbye from a service it never saw', () => {
    const { reg, take } = setup();
    expect(reg.observe(announce({ goodbye: true }), 's')).toBe('accepted');
    expect(reg.size).toBe(0);
    expect(take()).toEqual([]);
    expect(reg.stats.goodbyes).toBe(0);
  });

  it('turns a stale service gone on goodbye without a second down', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({}), 's');
    clock.advance(30_000);
    reg.sweep();
    take();
    reg.observe(announce({ goodbye: true }), 's');
    expect(take()).toEqual([['update', 'h:1', 'gone']]);
    expect(reg.counts()).toEqual({ up: 0, stale: 0, gone: 1 });
    expect(reg.stats.goodbyes).toBe(0);
  });

  it('brings a gone service back up when it announces again', () => {
    const { reg, take } = setup();
    reg.observe(announce({}), 's');
    reg.observe(announce({ goodbye: true }), 's');
    reg.observe(announce({}), 's');
    expect(take().map((e) => e[0])).toEqual(['up', 'down', 'up']);
    expect(reg.stats.discovered).toBe(2);
    expect(reg.counts()).toEqual({ up: 1, stale: 0, gone: 0 });
  });
});

describe('ServiceRegistry records', () => {
  it('keys services by type and address, not by name', () => {
    const { reg } = setup();
    reg.observe(announce({ type: 'A', addr: 'h:1' }), 's');
    reg.observe(announce({ type: 'B', addr: 'h:1' }), 's');
    reg.observe(announce({ type: 'A', addr: ['h', 1], name: 'renamed' }), 's');
    expect(reg.size).toBe(2);
    expect(reg.get(key('h:1', 'A'))?.name).toBe('renamed');
    expect([...reg.services()].map((r) => r.key).sort()).toEqual([key('h:1', 'A'), key('h:1', 'B')]);
  });

  it('records wall times for people, the last source and data, and the age of the announcement', () => {
    const { clock, reg, take } = setup();
    const first = clock.wall;
    reg.observe(
      announce({ version: '1', timestamp: clock.wall / 1000 - 1.5, metrics_port: 9100 }),
      '192.0.2.1',
    );
    clock.advance(2_000);
    reg.observe(announce({ version: '2', extra: 'x' }), '192.0.2.2');
    const rec = reg.get(key('h:1'));
    expect(rec).toMatchObject({
      firstSeenWallMs: first,
      lastSeenWallMs: first + 2_000,
      source: '192.0.2.2',
      version: '2',
      ageSeconds: undefined,
      metricsPort: undefined,
      packets: 2,
    });
    expect(rec?.data.extra).toBe('x');
    expect(take().map((e) => e[0])).toEqual(['up', 'update']);
    // With a seq: a vault-multicast publisher's stamp, read as the sending time at once.
    reg.observe(announce({ timestamp: clock.wall / 1000 - 0.25, seq: 1 }), 's');
    expect(rec?.ageSeconds).toBeCloseTo(0.25, 6);
  });

  it('counts gaps in seq as lost and treats a seq going back as a restart', () => {
    const { reg } = setup();
    const seqs = [1, 2, 5, 6, 6, 0, 1, 3, 3 + MAX_SEQ_GAP + 2, 4];
    const lost: number[] = [];
    for (const seq of seqs) {
      reg.observe(announce({ seq }), 's');
      lost.push(reg.get(key('h:1'))?.lost ?? -1);
    }
    // 2→5 loses 3 and 4; 6→6 is a duplicate; 6→0 a restart; 1→3 loses 2; a jump past MAX_SEQ_GAP is a restart.
    expect(lost).toEqual([0, 0, 2, 2, 2, 2, 2, 3, 3, 3]);
    expect(reg.get(key('h:1'))?.lastSeq).toBe(4);
  });

  it('counts announcements lost while a service was stale', () => {
    const { clock, reg } = setup();
    reg.observe(announce({ seq: 10 }), 's');
    clock.advance(40_000);
    reg.sweep();
    reg.observe(announce({ seq: 30 }), 's');
    expect(reg.get(key('h:1'))?.lost).toBe(19);
  });

  it('tracks only types containing the filter, as the widget does', () => {
    const { reg } = setup({ typeFilter: 'Vault' });
    expect(reg.observe(announce({ type: 'VaultLibrary' }), 's')).toBe('accepted');
    expect(reg.observe(announce({ type: 'MyVaultThing', addr: 'h:2' }), 's')).toBe('accepted');
    expect(reg.observe(announce({ type: 'vault' }), 's')).toBe('filtered');
    expect(reg.observe(announce({ type: 'Other' }), 's')).toBe('filtered');
    expect(reg.size).toBe(2);
    expect(reg.stats.discovered).toBe(2);
  });

  it('clear() forgets everything, announces each removal and keeps lifetime stats', () => {
    const { reg, take } = setup();
    reg.observe(announce({ addr: 'a:1' }), 's');
    reg.observe(announce({ addr: 'b:1' }), 's');
    reg.observe(announce({ addr: 'b:1', goodbye: true }), 's');
    take();
    reg.clear();
    expect(take()).toEqual([
      ['removed', 'a:1', 'up'],
      ['removed', 'b:1', 'gone'],
    ]);
    expect(reg.size).toBe(0);
    expect(reg.counts()).toEqual({ up: 0, stale: 0, gone: 0 });
    expect(reg.stats).toMatchObject({ discovered: 2, goodbyes: 1 });
    reg.observe(announce({ addr: 'a:1' }), 's');
    expect(reg.counts().up).toBe(1);
  });

  it('refuses invalid options', () => {
    expect(() => new ServiceRegistry({ serviceTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new ServiceRegistry({ retentionMs: -1 })).toThrow(RangeError);
    expect(() => new ServiceRegistry({ maxServices: 0 })).toThrow(RangeError);
    expect(() => new ServiceRegistry({ maxServices: 1.5 })).toThrow(RangeError);
  });
});

describe('ServiceRegistry cap', () => {
  it('keeps the services it has and counts the excess', () => {
    const { reg, take } = setup({ maxServices: 2 });
    expect(reg.observe(announce({ addr: 'a:1' }), 's')).toBe('accepted');
    expect(reg.observe(announce({ addr: 'b:1' }), 's')).toBe('accepted');
    take();
    expect(reg.observe(announce({ addr: 'c:1' }), 's')).toBe('service_limit');
    expect(reg.observe(announce({ addr: 'c:1' }), 's')).toBe('service_limit');
    expect(reg.stats.refused).toBe(2);
    expect(take()).toEqual([]);
    expect([...reg.services()].map((r) => r.addr)).toEqual(['a:1', 'b:1']);
    // Known services still update while full.
    expect(reg.observe(announce({ addr: 'a:1' }), 's')).toBe('accepted');
  });

  it('makes room by forgetting the service that went down first', () => {
    const { clock, reg, take } = setup({ maxServices: 3 });
    reg.observe(announce({ addr: 'a:1' }), 's');
    reg.observe(announce({ addr: 'b:1' }), 's');
    reg.observe(announce({ addr: 'c:1' }), 's');
    reg.observe(announce({ addr: 'b:1', goodbye: true }), 's');
    clock.advance(10);
    reg.observe(announce({ addr: 'a:1', goodbye: true }), 's');
    take();
    expect(reg.observe(announce({ addr: 'd:1' }), 's')).toBe('accepted');
    expect(take()).toEqual([
      ['removed', 'b:1', 'gone'],
      ['up', 'd:1', 'up'],
    ]);
    expect(reg.observe(announce({ addr: 'e:1' }), 's')).toBe('accepted');
    expect(reg.observe(announce({ addr: 'f:1' }), 's')).toBe('service_limit');
    expect([...reg.services()].map((r) => r.addr).sort()).toEqual(['c:1', 'd:1', 'e:1']);
    expect(reg.stats.refused).toBe(1);
    expect(reg.counts()).toEqual({ up: 3, stale: 0, gone: 0 });
  });
});

describe('ServiceRegistry conflicts', () => {
  it('reports a second address claiming the same type and name, and counts every such announcement', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({ name: 'db', addr: 'a:1' }), 's');
    reg.observe(announce({ name: 'db', addr: 'b:1' }), 's');
    const events = take();
    expect(events).toEqual([
      ['up', 'a:1', 'up'],
      ['up', 'b:1', 'up'],
      ['conflict', { type: 'T', name: 'db', existingAddr: 'a:1', addr: 'b:1', wallMs: clock.wall }],
    ]);
    expect(reg.stats.conflicts).toBe(1);
    reg.observe(announce({ name: 'db', addr: 'a:1' }), 's');
    reg.observe(announce({ name: 'db', addr: 'b:1' }), 's');
    expect(reg.stats.conflicts).toBe(3);
    expect(take().map((e) => e[0])).toEqual(['update', 'update']);
    // Both stay visible: a conflict is reported, never resolved by hiding one.
    expect(reg.counts().up).toBe(2);
  });

  it('stops counting once the other service is down, and reports again when it returns', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({ name: 'db', addr: 'a:1' }), 's');
    reg.observe(announce({ name: 'db', addr: 'b:1' }), 's');
    reg.observe(announce({ name: 'db', addr: 'a:1', goodbye: true }), 's');
    const before = reg.stats.conflicts;
    reg.observe(announce({ name: 'db', addr: 'b:1' }), 's');
    expect(reg.stats.conflicts).toBe(before);
    take();
    clock.advance(5);
    reg.observe(announce({ name: 'db', addr: 'a:1' }), 's');
    expect(take()).toContainEqual([
      'conflict',
      { type: 'T', name: 'db', existingAddr: 'b:1', addr: 'a:1', wallMs: clock.wall },
    ]);
  });

  it('keeps counting while two of three claimants are up, and stops when one is left', () => {
    const { reg } = setup();
    for (const addr of ['a:1', 'b:1', 'c:1']) reg.observe(announce({ name: 'db', addr }), 's');
    reg.observe(announce({ name: 'db', addr: 'b:1', goodbye: true }), 's');
    let before = reg.stats.conflicts;
    reg.observe(announce({ name: 'db', addr: 'c:1' }), 's');
    expect(reg.stats.conflicts).toBe(before + 1);
    reg.observe(announce({ name: 'db', addr: 'a:1', goodbye: true }), 's');
    before = reg.stats.conflicts;
    reg.observe(announce({ name: 'db', addr: 'c:1' }), 's');
    expect(reg.stats.conflicts).toBe(before);
  });

  it('reports a service that renames itself onto a taken name', () => {
    const { reg, take } = setup();
    reg.observe(announce({ name: 'one', addr: 'a:1' }), 's');
    reg.observe(announce({ name: 'two', addr: 'b:1' }), 's');
    expect(reg.stats.conflicts).toBe(0);
    reg.observe(announce({ name: 'one', addr: 'b:1' }), 's');
    expect(take().filter((e) => e[0] === 'conflict')).toHaveLength(1);
    reg.observe(announce({ name: 'three', addr: 'b:1' }), 's');
    reg.observe(announce({ name: 'one', addr: 'a:1' }), 's');
    expect(reg.stats.conflicts).toBe(1);
  });

  it('sees no conflict between services that give no name (the name defaults to the type)', () => {
    const { reg } = setup();
    reg.observe(announce({ addr: 'a:1' }), 's');
    reg.observe(announce({ addr: 'b:1' }), 's');
    expect(reg.stats.conflicts).toBe(0);
  });
});

describe('ServiceRegistry time', () => {
  it('ignores wall-clock jumps of days in either direction', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({ addr: 'a:1' }), 's');
    clock.wall += 3 * DAY;
    reg.sweep();
    clock.wall -= 6 * DAY;
    clock.mono += 29_000;
    reg.sweep();
    expect(reg.get(key('a:1'))?.state).toBe('up');
    reg.observe(announce({ addr: 'a:1' }), 's');
    expect(reg.get(key('a:1'))?.lastSeenWallMs).toBe(clock.wall);
    clock.wall += 10 * DAY;
    clock.mono += 29_999;
    reg.sweep();
    expect(reg.get(key('a:1'))?.state).toBe('up');
    clock.mono += 1;
    reg.sweep();
    expect(reg.get(key('a:1'))?.state).toBe('stale');
    expect(take().map((e) => e[0])).toEqual(['up', 'update', 'down']);
  });

  it('catches up in one late sweep after a long stall', () => {
    const { clock, reg, take } = setup({ retentionMs: 600_000 });
    for (let i = 0; i < 500; i++) reg.observe(announce({ addr: `h:${i + 1}`, ttl: 1 + (i % 90) }), 's');
    take();
    clock.advance(2 * 3_600_000);
    reg.sweep();
    expect(reg.counts()).toEqual({ up: 0, stale: 500, gone: 0 });
    expect(reg.stats.expired).toBe(500);
    expect(take().every((e) => e[0] === 'down')).toBe(true);
    clock.advance(600_000);
    reg.sweep();
    expect(reg.size).toBe(0);
  });

  it('sees an expired service that announces before the late sweep as down, then up again', () => {
    const { clock, reg, take } = setup();
    reg.observe(announce({}), 's');
    clock.advance(45_000);
    reg.observe(announce({}), 's');
    expect(take().map((e) => e.slice(0, 2))).toEqual([
      ['up', 'h:1'],
      ['down', 'h:1'],
      ['up', 'h:1'],
    ]);
    expect(reg.stats).toMatchObject({ discovered: 2, expired: 1 });
    reg.sweep();
    expect(reg.get(key('h:1'))?.state).toBe('up');
  });
});

describe('ServiceRegistry against a plain model', () => {
  /** The same rules written the obvious way: every sweep looks at every service. */
  class Model {
    services = new Map<string, { state: 'up' | 'stale' | 'gone'; expiresAt: number; forgetAt: number }>();
    discovered = 0;
    expired = 0;
    goodbyes = 0;
    constructor(
      private timeout: number,
      private retention: number,
    ) {}
    observe(addr: string, goodbye: boolean, ttlMs: number | undefined, now: number): void {
      let s = this.services.get(addr);
      const expiresAt = now + (ttlMs ?? this.timeout);
      if (s === undefined) {
        if (goodbye) return;
        this.services.set(addr, { state: 'up', expiresAt, forgetAt: Number.NaN });
        this.discovered++;
        return;
      }
      if (s.state === 'up' && now >= s.expiresAt) {
        s = { state: 'stale', expiresAt: s.expiresAt, forgetAt: now + this.retention };
        this.expired++;
      }
      const wasUp = s.state === 'up';
      s.expiresAt = expiresAt;
      if (goodbye) {
        if (wasUp) this.goodbyes++;
        if (wasUp || s.state === 'stale') s = { ...s, state: 'gone', forgetAt: now + this.retention };
      } else if (!wasUp) {
        s = { ...s, state: 'up', forgetAt: Number.NaN };
        this.discovered++;
      }
      this.services.set(addr, s);
    }
    sweep(now: number): void {
      for (const s of this.services.values()) {
        if (s.state === 'up' && s.expiresAt <= now) {
          s.state = 'stale';
          s.forgetAt = now + this.retention;
          this.expired++;
        }
      }
      for (const [addr, s] of this.services)
        if (s.state !== 'up' && s.forgetAt <= now) this.services.delete(addr);
    }
  }

  const op = fc.oneof(
    fc.record({
      kind: fc.constant('observe' as const),
      service: fc.integer({ min: 1, max: 12 }),
      goodbye: fc.boolean(),
      ttl: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 70_000 }) }),
    fc.record({ kind: fc.constant('sweep' as const) }),
  );

  it('agrees on every service state and every counter', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const clock = new FakeClock();
        const reg = new ServiceRegistry({ clock, serviceTimeoutMs: 30_000, retentionMs: 45_000 });
        const model = new Model(30_000, 45_000);
        let events = 0;
        reg.on('up', () => events++);
        reg.on('down', () => events--);
        for (const o of ops) {
          if (o.kind === 'advance') clock.advance(o.ms);
          else if (o.kind === 'sweep') {
            reg.sweep();
            model.sweep(clock.mono);
          } else {
            const addr = `h:${o.service}`;
            reg.observe(announce({ addr, goodbye: o.goodbye, ttl: o.ttl }), 's');
            model.observe(addr, o.goodbye, o.ttl === undefined ? undefined : o.ttl * 1000, clock.mono);
          }
          const want = [...model.services].map(([addr, s]) => [addr, s.state]).sort();
          const got = [...reg.services()].map((r) => [r.addr, r.state]).sort();
          expect(got).toEqual(want);
          const counts = { up: 0, stale: 0, gone: 0 };
          for (const s of model.services.values()) counts[s.state]++;
          expect(reg.counts()).toEqual(counts);
          expect(reg.size).toBe(model.services.size);
          expect(reg.stats).toMatchObject({
            discovered: model.discovered,
            expired: model.expired,
            goodbyes: model.goodbyes,
          });
          // Every up event is matched by a down before the next up of the same service.
          expect(events).toBe(reg.stats.discovered - reg.stats.expired - reg.stats.goodbyes);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('ServiceRegistry reads a timestamp as the sending time only when it behaves like one', () => {
  const ages = (steps: Record<string, unknown>[], everyMs = 2_000) => {
    const { clock, reg } = setup();
    const out: (number | undefined)[] = [];
    for (const fields of steps) {
      reg.observe(announce(fields), 's');
      out.push(reg.get(key('h:1'))?.ageSeconds);
      clock.advance(everyMs);
    }
    return out;
  };
  const now0 = Date.UTC(2026, 0, 1) / 1000;

  it('a timestamp set once (the seed README) never yields an age, however old it is', () => {
    expect(
      ages([{ timestamp: 1700000000.25 }, { timestamp: 1700000000.25 }, { timestamp: 1700000000.25 }]),
    ).toEqual([undefined, undefined, undefined]);
  });

  it('missing or non-numeric timestamps yield no age', () => {
    expect(ages([{}, { timestamp: '2026-01-01T00:00:00' }, { timestamp: '2026-01-01T00:00:02' }])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('a timestamp that advances is the sending time from the second announcement on', () => {
    const got = ages([{ timestamp: now0 - 1 }, { timestamp: now0 + 1 }, { timestamp: now0 + 3 }]);
    expect(got[0]).toBeUndefined();
    expect(got[1]).toBeCloseTo(1, 6);
    expect(got[2]).toBeCloseTo(1, 6);
  });

  it("a vault-multicast publisher's stamp (timestamp with seq) is read at once, and after its clock steps back", () => {
    const got = ages([
      { timestamp: now0 - 0.5, seq: 0 },
      { timestamp: now0 + 1.5, seq: 1 },
      { timestamp: now0 - 100, seq: 2 },
    ]);
    expect(got[0]).toBeCloseTo(0.5, 6);
    expect(got[1]).toBeCloseTo(0.5, 6);
    expect(got[2]).toBeCloseTo(104, 6);
  });

  it("an application's own static timestamp next to a publisher's seq stops being read on the next announcement", () => {
    const got = ages([
      { timestamp: 1700000000.25, seq: 0 },
      { timestamp: 1700000000.25, seq: 1 },
      { timestamp: 1700000000.25, seq: 2 },
    ]);
    expect(got.slice(1)).toEqual([undefined, undefined]);
  });

  it('a copy of the same datagram (same timestamp, same seq) keeps the age', () => {
    const got = ages(
      [
        { timestamp: now0, seq: 4 },
        { timestamp: now0, seq: 4 },
      ],
      10,
    );
    expect(got[1]).toBeCloseTo(0.01, 6);
  });
});

describe('ServiceRegistry byte bound', () => {
  const wire = (fields: Record<string, unknown>) => {
    const bytes = encodeAnnouncement({ type: 'T', ...fields });
    const r = decodeAnnouncement(bytes, { maxBytes: 65_507 });
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    return { a: r.announcement, size: bytes.length };
  };

  it('a cut announcement keeps its address and counts what it still holds', () => {
    const { reg } = setup({ maxBytes: 20_000 });
    const blob = 'x'.repeat(15_000);
    for (const [i, addr] of ['192.0.2.1:80', '192.0.2.2:80'].entries()) {
      const { a, size } = wire({ name: `n${i}`, addr, blob });
      expect(reg.observe(a, '192.0.2.9', undefined, size)).toBe('accepted');
    }
    const cut = [...reg.services()].filter((r) => r.cut);
    expect(cut).toHaveLength(1);
    expect(cut[0]!.data).toEqual({ type: 'T', name: cut[0]!.name, addr: cut[0]!.addr });
    expect(reg.bytes).toBeLessThanOrEqual(reg.maxBytes);
    // The cut one still counts its kept bytes: nothing is free.
    expect(reg.bytes).toBeGreaterThan(15_000 + JSON.stringify(cut[0]!.data).length - 1);
  });

  it('bulk under a key the library reads is cut too', () => {
    const { reg } = setup({ maxBytes: 20_000 });
    const bulk = { nested: 'y'.repeat(15_000) };
    for (const [i, addr] of ['192.0.2.1:80', '192.0.2.2:80'].entries()) {
      const { a, size } = wire({ addr, name: bulk, ttl: [i, 'z'.repeat(3000)] });
      expect(reg.observe(a, '192.0.2.9', undefined, size)).toBe('accepted');
    }
    expect(reg.bytes).toBeLessThanOrEqual(reg.maxBytes);
    const cut = [...reg.services()].filter((r) => r.cut);
    expect(cut.length).toBeGreaterThan(0);
    for (const r of cut) expect(r.data).toEqual({ type: 'T', addr: r.addr });
  });

  it('a lower maxBytes on reconfigure cuts at once, even for senders repeating one static message', () => {
    const { reg } = setup();
    const { a, size } = wire({ addr: '192.0.2.1:80', blob: 'x'.repeat(10_000) });
    reg.observe(a, '192.0.2.9', undefined, size);
    reg.observe(a, '192.0.2.9', undefined, size);
    expect(reg.bytes).toBe(size);
    reg.configure({ maxBytes: 4096 });
    expect(reg.bytes).toBeLessThanOrEqual(4096);
    expect(reg.get(key('192.0.2.1:80'))?.data).toEqual({ type: 'T', addr: '192.0.2.1:80' });
  });
});

describe('ServiceRegistry fair share', () => {
  it('a newcomer takes the least recently seen entry of the largest source, wherever it moved from', () => {
    const { clock, reg } = setup({ maxServices: 20 });
    const addr = (i: number) => `198.51.100.${i}:1`;
    for (let i = 0; i < 20; i++) {
      reg.observe(announce({ addr: addr(i) }), '192.0.2.1');
      clock.advance(10);
    }
    // Seen again: 0 and 2 are no longer the stalest; 1 moves to another source and back.
    reg.observe(announce({ addr: addr(0) }), '192.0.2.1');
    reg.observe(announce({ addr: addr(2) }), '192.0.2.1');
    reg.observe(announce({ addr: addr(1) }), '192.0.2.2');
    reg.observe(announce({ addr: addr(1) }), '192.0.2.1');
    const present = () => [...reg.services()].map((r) => r.addr);
    expect(reg.observe(announce({ addr: '203.0.113.1:1' }), '192.0.2.9')).toBe('accepted');
    expect(present()).not.toContain(addr(3));
    expect(reg.observe(announce({ addr: '203.0.113.2:1' }), '192.0.2.9')).toBe('accepted');
    expect(present()).not.toContain(addr(4));
    expect(present()).toEqual(expect.arrayContaining([addr(0), addr(1), addr(2), addr(5)]));
    expect(reg.size).toBe(20);
  });

  it("a throwing 'down' handler on a late expiry leaves no ghost entry in a source's share", () => {
    const { clock, reg } = setup({ serviceTimeoutMs: 30_000, retentionMs: 1000, maxServices: 20 });
    reg.observe(announce({ addr: '192.0.2.1:1' }), '192.0.2.100');
    // The sweep is late: the next announcement, from another address, finds the service expired.
    clock.advance(31_000);
    const boom = () => {
      throw new Error('handler failed');
    };
    reg.once('down', boom);
    expect(() => reg.observe(announce({ addr: '192.0.2.1:1' }), '192.0.2.200')).toThrow('handler failed');
    clock.advance(2000);
    reg.sweep();
    expect(reg.size).toBe(0);
    // One source fills the registry, then a newcomer takes a share: the entry given up must be a real one.
    for (let i = 0; i < 20; i++) reg.observe(announce({ addr: `198.51.100.${i}:1` }), '192.0.2.200');
    expect(reg.observe(announce({ addr: '203.0.113.1:1' }), '192.0.2.250')).toBe('accepted');
    expect(reg.size).toBe([...reg.services()].length);
    expect(reg.counts()).toEqual({ up: 20, stale: 0, gone: 0 });
  });
});
