import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/discovery/clock.js';
import {
  createReceiveGuards,
  createSigner,
  SignatureGuard,
  signAnnouncement,
} from '../../src/discovery/security/index.js';
import type { SourceInfo } from '../../src/discovery/types.js';

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(48, 0xb2);
const SRC: SourceInfo = { address: '198.18.0.2', port: 40000, family: 'IPv4', size: 0 };
const GROUP = '224.1.1.1';
const PORT = 5004;

/** A clock both ends share, moved by hand. */
function fakeClock(
  wallMs = 1_767_225_600_000,
): Clock & { advance(ms: number): void; wall: number; mono: number } {
  const c = {
    wall: wallMs,
    mono: 1_000,
    monotonicMs: () => c.mono,
    wallMs: () => c.wall,
    advance(ms: number) {
      c.wall += ms;
      c.mono += ms;
    },
  };
  return c;
}

const body = (o: Record<string, unknown>) => Buffer.from(JSON.stringify(o));
const ANN = body({ type: 'vault', name: 'v1', addr: '198.18.0.2:8200', seq: 7 });

function guard(mode: 'verify-if-signed' | 'required', clock: Clock, keys = [{ id: 'a', key: KEY_A }]) {
  return new SignatureGuard({ mode, keys, group: GROUP, port: PORT, clock });
}

describe('signed announcements', () => {
  it('appends exactly one sig key and stays a JSON object the original can read', () => {
    const clock = fakeClock();
    const signed = createSigner({ keyId: 'a', key: KEY_A, group: GROUP, port: PORT, clock }).sign(ANN);
    const parsed = JSON.parse(signed.toString());
    expect(Object.keys(parsed)).toEqual(['type', 'name', 'addr', 'seq', 'sig']);
    expect(parsed.sig).toMatch(/^v1\.a\.1767225600000\.[A-Za-z0-9_-]{43}$/);
    expect(signed.subarray(0, ANN.length - 1)).toEqual(ANN.subarray(0, ANN.length - 1));
  });

  it('accepts a genuine announcement once and refuses the same bytes again as replayed', () => {
    const clock = fakeClock();
    const signed = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall);
    const g = guard('required', clock);
    expect(g.check(signed, SRC, clock.mono)).toBeUndefined();
    clock.advance(10);
    expect(g.check(signed, SRC, clock.mono)).toBe('replayed');
  });

  it('refuses an announcement signed longer ago than the window, and one from too far in the future', () => {
    const clock = fakeClock();
    const g = guard('required', clock);
    const old = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall - 30_001);
    const future = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall + 30_001);
    const edge = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall - 30_000);
    expect(g.check(old, SRC, clock.mono)).toBe('replayed');
    expect(g.check(future, SRC, clock.mono)).toBe('replayed');
    expect(g.check(edge, SRC, clock.mono)).toBeUndefined();
  });

  it('refuses an announcement recorded on another group or port (the MAC covers both)', () => {
    const clock = fakeClock();
    const g = guard('required', clock);
    const otherGroup = signAnnouncement(ANN, { id: 'a', key: KEY_A }, '224.1.1.2', PORT, clock.wall);
    const otherPort = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, 5005, clock.wall);
    expect(g.check(otherGroup, SRC, clock.mono)).toBe('signature_invalid');
    expect(g.check(otherPort, SRC, clock.mono)).toBe('signature_invalid');
  });

  it('treats differently written forms of one IPv6 group as the same group', () => {
    const clock = fakeClock();
    const g = new SignatureGuard({
      mode: 'required',
      keys: [{ id: 'a', key: KEY_A }],
      group: 'FF05:0::1:2',
      port: PORT,
      clock,
    });
    const signed = signAnnouncement(ANN, { id: 'a', key: KEY_A }, 'ff05::1:2', PORT, clock.wall);
    expect(g.check(signed, SRC, clock.mono)).toBeUndefined();
  });

  it('refuses a wrong key, an unknown key id, a changed body and a spoofed signature', () => {
    const clock = fakeClock();
    const g = guard('required', clock);
    const wrongKey = signAnnouncement(ANN, { id: 'a', key: KEY_B }, GROUP, PORT, clock.wall);
    const unknown = signAnnouncement(ANN, { id: 'zz', key: KEY_A }, GROUP, PORT, clock.wall);
    const genuine = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall);
    const tampered = Buffer.from(genuine.toString().replace('8200', '8201'));
    const spoofed = Buffer.from(
      `${ANN.subarray(0, ANN.length - 1).toString()},"sig":"v1.a.${clock.wall}.${'A'.repeat(43)}"}`,
    );
    expect(g.check(wrongKey, SRC, clock.mono)).toBe('signature_invalid');
    expect(g.check(unknown, SRC, clock.mono)).toBe('unknown_key');
    expect(g.check(tampered, SRC, clock.mono)).toBe('signature_invalid');
    expect(g.check(spoofed, SRC, clock.mono)).toBe('signature_invalid');
    // None of the rejects burnt the genuine datagram's replay-cache slot.
    expect(g.check(genuine, SRC, clock.mono)).toBeUndefined();
  });

  it('refuses every truncation of the signature, and a later time spliced into a genuine signature', () => {
    const clock = fakeClock();
    const g = guard('required', clock);
    const genuine = signAnnouncement(ANN, { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall).toString();
    const sigAt = genuine.indexOf('"sig":"') + 7;
    for (let cut = sigAt; cut < genuine.length - 2; cut++) {
      const truncated = Buffer.from(`${genuine.slice(0, cut)}"}`);
      expect(g.check(truncated, SRC, clock.mono), genuine.slice(0, cut)).toBe('signature_invalid');
    }
    const later = Buffer.from(genuine.replace(`.${clock.wall}.`, `.${clock.wall + 1}.`));
    expect(g.check(later, SRC, clock.mono)).toBe('signature_invalid');
  });

  it('tells unsigned from signed: required drops unsigned as signature_missing, verify-if-signed lets it pass', () => {
    const clock = fakeClock();
    expect(guard('required', clock).check(ANN, SRC, clock.mono)).toBe('signature_missing');
    expect(guard('verify-if-signed', clock).check(ANN, SRC, clock.mono)).toBeUndefined();
    const bad = signAnnouncement(ANN, { id: 'a', key: KEY_B }, GROUP, PORT, clock.wall);
    expect(guard('verify-if-signed', clock).check(bad, SRC, clock.mono)).toBe('signature_invalid');
    // A last key that merely looks like a signature value, in another key, is not a signature.
    const lookalike = body({ type: 'x', addr: 'h:1', note: 'v1.a.1.b' });
    expect(guard('required', clock).check(lookalike, SRC, clock.mono)).toBe('signature_missing');
  });

  it('signs the empty object as {"sig":...} and refuses the {,"sig":...} variant of the same MAC', () => {
    const clock = fakeClock();
    const g = guard('required', clock);
    const empty = signAnnouncement(Buffer.from(' {  } \n'), { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall);
    expect(empty.toString()).toMatch(/^\{"sig":"v1\.a\.\d+\.[\w-]{43}"\}$/);
    const variant = Buffer.from(empty.toString().replace('{"sig"', '{,"sig"'));
    expect(g.check(variant, SRC, clock.mono)).toBe('signature_invalid');
    expect(g.check(empty, SRC, clock.mono)).toBeUndefined();
  });

  it('leaves a message that is not a JSON object as it is', () => {
    const plain = Buffer.from('there is nothing to see');
    expect(signAnnouncement(plain, { id: 'a', key: KEY_A }, GROUP, PORT, 1).equals(plain)).toBe(true);
  });

  it('accepts both keys during a rotation and only the new one after it', () => {
    const clock = fakeClock();
    const oldKey = { id: 'k2025', key: KEY_A };
    const newKey = { id: 'k2026', key: KEY_B };
    const during = guard('required', clock, [newKey, oldKey]);
    const after = guard('required', clock, [newKey]);
    const byOld = () => signAnnouncement(ANN, oldKey, GROUP, PORT, clock.wall);
    const byNew = () => signAnnouncement(ANN, newKey, GROUP, PORT, clock.wall);
    expect(during.check(byOld(), SRC, clock.mono)).toBeUndefined();
    expect(during.check(byNew(), SRC, clock.mono)).toBeUndefined();
    clock.advance(1);
    expect(after.check(byNew(), SRC, clock.mono)).toBeUndefined();
    expect(after.check(byOld(), SRC, clock.mono)).toBe('unknown_key');
  });

  it('refuses short keys, bad key ids and duplicate ids when the guards are built', () => {
    expect(() => createSigner({ keyId: 'a', key: Buffer.alloc(31), group: GROUP, port: PORT })).toThrow(/32/);
    expect(() => createSigner({ keyId: 'a.b', key: KEY_A, group: GROUP, port: PORT })).toThrow(/key id/);
    expect(() =>
      createReceiveGuards({
        group: GROUP,
        port: PORT,
        signing: {
          mode: 'required',
          keys: [
            { id: 'a', key: KEY_A },
            { id: 'a', key: KEY_B },
          ],
        },
      }),
    ).toThrow(/twice/);
    expect(() =>
      createReceiveGuards({ group: GROUP, port: PORT, signing: { mode: 'required', keys: [] } }),
    ).toThrow(/at least one key/);
  });

  it('keeps the replay cache bounded: a flood of genuine announcements never grows it past its capacity', () => {
    const clock = fakeClock();
    const g = new SignatureGuard({
      mode: 'required',
      keys: [{ id: 'a', key: KEY_A }],
      group: GROUP,
      port: PORT,
      clock,
      replayCacheEntries: 100,
    });
    for (let i = 0; i < 1_000; i++) {
      const signed = signAnnouncement(
        body({ type: 't', addr: `h:${i}` }),
        { id: 'a', key: KEY_A },
        GROUP,
        PORT,
        clock.wall,
      );
      expect(g.check(signed, SRC, clock.mono)).toBeUndefined();
      expect(g.replayCache.size).toBeLessThanOrEqual(100);
    }
    expect(g.replayCache.evictions).toBe(900);
  });

  it('accepts every signed JSON object once, and no single-byte change of one (property, 3,000 cases)', () => {
    const clock = fakeClock();
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (obj, at, byte) => {
          const signed = signAnnouncement(body(obj), { id: 'a', key: KEY_A }, GROUP, PORT, clock.wall);
          expect(JSON.parse(signed.toString())).toMatchObject({ sig: expect.stringMatching(/^v1\.a\./) });
          const mutated = Buffer.from(signed);
          mutated[at % mutated.length] = byte;
          const g = guard('required', clock);
          if (!mutated.equals(signed)) expect(g.check(mutated, SRC, clock.mono)).toBeDefined();
          expect(g.check(signed, SRC, clock.mono)).toBeUndefined();
          expect(g.check(signed, SRC, clock.mono)).toBe('replayed');
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
