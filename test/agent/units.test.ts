/**
 * The small pieces of the HTTP side on their own: the per-client token bucket with a fake clock, credential
 * parsing, listen-address parsing and which announced hosts may become scrape targets.
 */
import { describe, expect, test } from 'vitest';
import { checkAuthorization } from '../../src/agent/http/auth.js';
import { ClientRateLimiter } from '../../src/agent/http/rate-limit.js';
import { parseListen } from '../../src/agent/http/server.js';
import { scrapeTarget } from '../../src/metrics/sd-targets.js';

describe('ClientRateLimiter', () => {
  test('a burst of perMinute, then one more every 60/perMinute seconds, per client', () => {
    let now = 0;
    const rl = new ClientRateLimiter(
      () => 6,
      100,
      () => now,
    );
    for (let i = 0; i < 6; i++) expect(rl.take('a').ok).toBe(true);
    const refused = rl.take('a');
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 10 });
    expect(rl.take('b').ok).toBe(true);
    now += 9_000;
    expect(rl.take('a').ok).toBe(false);
    now += 1_000;
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false);
  });

  test('the table is bounded: the least recently seen client is forgotten', () => {
    const rl = new ClientRateLimiter(
      () => 1,
      2,
      () => 0,
    );
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('b').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('c').ok).toBe(true); // forgets b, the least recently seen
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('b').ok).toBe(true);
  });
});

describe('checkAuthorization', () => {
  const auth = { token: 's3cret-token', basic: { username: 'ops', password: 'pa:ss' } };
  const b64 = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  test.each([
    [undefined, false],
    ['Bearer s3cret-token', true],
    ['bearer s3cret-token', true],
    ['Bearer s3cret-token ', true],
    ['Bearer s3cret-tokeN', false],
    ['Bearer', false],
    [b64('ops:pa:ss'), true],
    [b64('ops:pa'), false],
    [b64('ops'), false],
    [b64('OPS:pa:ss'), false],
    ['Digest x', false],
  ])('%s → %s', (header, ok) => {
    expect(checkAuthorization(header, auth).ok).toBe(ok);
  });
  test('only a token configured: basic credentials are refused, the challenge names Bearer', () => {
    const r = checkAuthorization(b64('ops:pa:ss'), { token: 't', basic: undefined });
    expect(r).toEqual({ ok: false, challenge: 'Bearer' });
  });
  test('nothing configured: open', () => {
    expect(checkAuthorization(undefined, undefined).ok).toBe(true);
  });
});

describe('parseListen', () => {
  test.each([
    ['127.0.0.1:9477', { host: '127.0.0.1', port: 9477 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    [':9477', { host: '127.0.0.1', port: 9477 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('%s', (listen, expected) => {
    expect(parseListen(listen)).toEqual(expected);
  });
  test('garbage throws', () => {
    expect(() => parseListen('nowhere')).toThrow(/invalid listen address/);
  });
});

describe('scrapeTarget', () => {
  test.each([
    ['10.0.0.7', 9100, '10.0.0.7:9100'],
    ['2001:db8::7', 9100, '[2001:db8::7]:9100'],
    ['[2001:db8::7]', 9100, '[2001:db8::7]:9100'],
    ['node-a.example.org', 9100, 'node-a.example.org:9100'],
    ['a<b>', 9100, undefined],
    ['evil.example/path?x=', 9100, undefined],
    ['has space', 9100, undefined],
    ['-leading.example', 9100, undefined],
    ['10.0.0.7', 0, undefined],
    ['10.0.0.7', 70_000, undefined],
  ])('%s %d → %s', (host, port, expected) => {
    expect(scrapeTarget(host, port)).toBe(expected);
  });
});
