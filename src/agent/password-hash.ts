/**
 * Password hashes for the scrape endpoints' basic auth, as exporter-toolkit's `basic_auth_users` keeps them:
 * only a slow hash is stored, never the password. Node has scrypt built in (bcrypt would need a native
 * dependency), written in the PHC string format `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64, no padding).
 * `vault-multicast hash-password` makes one.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptHash {
  /** log2 of the cost N. */
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{22,})$/;
export const DEFAULT_COST_LOG2 = 15;
const KEY_LENGTH = 32;

/** The parsed hash, or why the text is not one this agent can check. */
export function parseScryptHash(text: string): ScryptHash | { error: string } {
  const m = FORMAT.exec(text);
  if (!m) {
    const kind = /^\$2[aby]\$/.test(text) ? 'a bcrypt hash, which this agent cannot check; ' : '';
    return {
      error: `${kind}expected an scrypt hash $scrypt$ln=N,r=R,p=P$salt$hash: make one with \`vault-multicast hash-password\``,
    };
  }
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || p < 1)
    return { error: 'scrypt parameters out of range (ln 10..20, r ≥ 1, p ≥ 1)' };
  return { ln, r, p, salt: Buffer.from(m[4] ?? '', 'base64'), hash: Buffer.from(m[5] ?? '', 'base64') };
}

function derive(password: string, h: Omit<ScryptHash, 'hash'>, length: number): Promise<Buffer> {
  const N = 2 ** h.ln;
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; allow that plus headroom (Node's default cap is exactly 32 MiB).
    scrypt(password, h.salt, length, { N, r: h.r, p: h.p, maxmem: 256 * N * h.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, ln = DEFAULT_COST_LOG2): Promise<string> {
  const params = { ln, r: 8, p: 1, salt: randomBytes(16) };
  const hash = await derive(password, params, KEY_LENGTH);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${ln},r=8,p=1$${b64(params.salt)}$${b64(hash)}`;
}

export async function verifyPassword(password: string, h: ScryptHash): Promise<boolean> {
  const key = await derive(password, h, h.hash.length);
  return timingSafeEqual(key, h.hash);
}
