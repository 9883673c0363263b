/**
 * Credentials for the mutating endpoints: a bearer token and/or basic auth. Secrets are compared through
 * SHA-256 digests with timingSafeEqual, so neither the content nor the length of a guess leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpAuthConfig } from '../config/types.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export type AuthResult = { ok: true } | { ok: false; challenge: string | undefined };

/** Checks the Authorization header against whatever credentials are configured (none configured: open). */
export function checkAuthorization(header: string | undefined, auth: HttpAuthConfig | undefined): AuthResult {
  const token = auth?.token;
  const basic = auth?.basic;
  if (token === undefined && basic === undefined) return { ok: true };
  const challenge = basic !== undefined ? 'Basic realm="vault-multicast", charset="UTF-8"' : 'Bearer';
  if (header === undefined) return { ok: false, challenge };
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer' && token !== undefined) {
    return safeEqual(value, token) ? { ok: true } : { ok: false, challenge };
  }
  if (scheme === 'basic' && basic !== undefined) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, challenge };
    // Both halves are always compared, so a wrong user name costs the same time as a wrong password.
    const userOk = safeEqual(decoded.slice(0, colon), basic.username);
    const passOk = safeEqual(decoded.slice(colon + 1), basic.password);
    return userOk && passOk ? { ok: true } : { ok: false, challenge };
  }
  return { ok: false, challenge };
}
