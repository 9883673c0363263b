/**
 * Optional basic auth for what Prometheus reads (/metrics and /api/v1/sd), from `http.basicAuthUsers`: user
 * name → scrypt hash, as exporter-toolkit's web config. Off when no user is configured.
 *
 * scrypt is slow and takes 32 MiB per check on purpose, so: a scraper's successful credentials are remembered
 * (by a digest, never the password) and checked without scrypt afterwards; an unknown user costs the same as a
 * wrong password; and at most MAX_CHECKS checks run at once, the rest get 429 rather than memory.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { parseScryptHash, type ScryptHash, verifyPassword } from '../password-hash.js';

const MAX_CHECKS = 4;
const MAX_REMEMBERED = 64;
const CHALLENGE = 'Basic realm="vault-multicast", charset="UTF-8"';
// Checked when the user is unknown, so that case takes as long as a wrong password.
const DECOY: ScryptHash = {
  ln: 15,
  r: 8,
  p: 1,
  salt: Buffer.alloc(16),
  hash: Buffer.alloc(32),
};

export function scrapeAuth(users: () => Readonly<Record<string, string>> | undefined): RequestHandler {
  const remembered = new Set<string>();
  let running = 0;
  return (req, res, next) => {
    const table = users();
    if (table === undefined || Object.keys(table).length === 0) {
      next();
      return;
    }
    const header = req.headers.authorization ?? '';
    const decoded = /^basic\s+(\S+)$/i.exec(header)?.[1];
    const text = decoded === undefined ? '' : Buffer.from(decoded, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    const refuse = () => {
      res.setHeader('WWW-Authenticate', CHALLENGE);
      res.status(401).json({ error: 'authentication required' });
    };
    if (colon < 0) {
      refuse();
      return;
    }
    const user = text.slice(0, colon);
    const stored = Object.hasOwn(table, user) ? table[user] : undefined;
    const digest = createHash('sha256')
      .update(`${user}\0${text.slice(colon + 1)}\0${stored ?? ''}`)
      .digest('hex');
    if (stored !== undefined && remembered.has(digest)) {
      next();
      return;
    }
    if (running >= MAX_CHECKS) {
      res.setHeader('Retry-After', '1');
      res.status(429).json({ error: 'too many authentication attempts at once' });
      return;
    }
    const parsed = stored === undefined ? DECOY : parseScryptHash(stored);
    const hash = 'error' in parsed ? DECOY : parsed;
    running += 1;
    verifyPassword(text.slice(colon + 1), hash).then(
      (ok) => {
        running -= 1;
        if (!ok || stored === undefined || hash === DECOY) {
          refuse();
          return;
        }
        if (remembered.size >= MAX_REMEMBERED) remembered.clear();
        remembered.add(digest);
        next();
      },
      (err: unknown) => {
        running -= 1;
        next(err);
      },
    );
  };
}
