/**
 * `vault-multicast hash-password`: reads a password on stdin (one trailing newline dropped) and prints the
 * scrypt hash that `http.basicAuthUsers` takes, so no password is ever written into a configuration file.
 */
import { text } from 'node:stream/consumers';
import { hashPassword } from '../agent/password-hash.js';
import { EXIT_OK, UsageError } from './args.js';

export const HASH_PASSWORD_USAGE = `usage: printf %s "$PASSWORD" | vault-multicast hash-password

  Prints an scrypt hash of the password read on stdin, for http.basicAuthUsers (basic auth on /metrics and
  /api/v1/sd):
    http:
      basicAuthUsers:
        prometheus: <the printed hash>
`;

export async function runHashPassword(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument ${argv[0]}`);
  const password = (await text(process.stdin)).replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('no password on stdin');
  process.stdout.write(`${await hashPassword(password)}\n`);
  return EXIT_OK;
}
