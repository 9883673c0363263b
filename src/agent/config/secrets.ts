/**
 * Secrets live in files (a Kubernetes Secret mounted as files, a systemd credential, a file with mode 0600),
 * never in the YAML or the environment, where they would end up in ConfigMaps, `ps` output and crash reports.
 * Each `*File` key is read once per load; a relative path is taken from the configuration file's directory.
 * Every failure names the key, its line and the file, and all of them are reported together.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ConfigProblem } from './errors.js';
import { formatPath } from './errors.js';
import type { ParsedConfig } from './schema.js';
import type { AgentConfig } from './types.js';

/** HMAC-SHA-256 keys shorter than its block output add no strength and suggest a mistake (e.g. a hex prefix). */
export const MIN_SIGNING_KEY_BYTES = 32;

export type Locate = (path: readonly PropertyKey[]) => { line: number; col: number };

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory, not a file';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Drops one final line ending (`\n` or `\r\n`), which editors and `echo` add but which is not part of the
 * secret. Only one: a key whose random bytes end in 0x0a or 0x0d must not lose them.
 */
export function trimTrailingNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) {
    end--;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
  }
  return bytes.subarray(0, end);
}

export async function readSecrets(
  parsed: ParsedConfig,
  baseDir: string,
  file: string,
  locate: Locate,
): Promise<{ config: AgentConfig } | { problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];

  const read = async (
    path: (string | number)[],
    name: string,
  ): Promise<{ bytes: Buffer; full: string } | undefined> => {
    const full = resolve(baseDir, name);
    try {
      const mode = (await stat(full)).mode;
      // Group read is fine (Kubernetes mounts Secrets 0440 for an fsGroup). Anything wider is a warning, not a
      // refusal: a file checked out by git or copied with a default umask is 0644, and refusing it would stop
      // an agent that ran yesterday.
      if ((mode & 0o037) !== 0) {
        const octal = (mode & 0o777).toString(8).padStart(4, '0');
        warnings.push(
          `${formatPath(path)}: ${full} is readable or writable by other users (mode ${octal}); run chmod 0400 ${full}`,
        );
      }
      return { bytes: await readFile(full), full };
    } catch (err) {
      fail(path, `cannot read ${full}: ${reason(err)}`);
      return undefined;
    }
  };
  const fail = (path: (string | number)[], message: string) => {
    const place = locate(path);
    problems.push({ file, line: place.line, col: place.col, path: formatPath(path), message });
  };
  const readText = async (path: (string | number)[], name: string): Promise<string | undefined> => {
    const got = await read(path, name);
    if (!got) return undefined;
    const text = trimTrailingNewline(got.bytes).toString('utf8');
    if (text === '') {
      fail(path, `${got.full} is empty`);
      return undefined;
    }
    return text;
  };

  const { http, security } = parsed;

  let tls: AgentConfig['http']['tls'];
  if (http.tls) {
    const [certPem, keyPem] = await Promise.all([
      readText(['http', 'tls', 'certFile'], http.tls.certFile),
      readText(['http', 'tls', 'keyFile'], http.tls.keyFile),
    ]);
    let cert: X509Certificate | undefined;
    let key: ReturnType<typeof createPrivateKey> | undefined;
    if (certPem !== undefined) {
      try {
        cert = new X509Certificate(certPem);
      } catch {
        fail(['http', 'tls', 'certFile'], `${resolve(baseDir, http.tls.certFile)} is not a PEM certificate`);
      }
    }
    if (keyPem !== undefined) {
      try {
        key = createPrivateKey(keyPem);
      } catch {
        fail(['http', 'tls', 'keyFile'], `${resolve(baseDir, http.tls.keyFile)} is not a PEM private key`);
      }
    }
    if (cert && key && !cert.checkPrivateKey(key)) {
      fail(
        ['http', 'tls', 'keyFile'],
        `the key in ${resolve(baseDir, http.tls.keyFile)} does not belong to the certificate`,
      );
    }
    if (certPem !== undefined && keyPem !== undefined) {
      tls = { certFile: http.tls.certFile, keyFile: http.tls.keyFile, cert: certPem, key: keyPem };
    }
  }

  let auth: AgentConfig['http']['auth'];
  if (http.auth) {
    const { tokenFile, basic } = http.auth;
    const [token, password] = await Promise.all([
      tokenFile === undefined ? undefined : readText(['http', 'auth', 'tokenFile'], tokenFile),
      basic === undefined
        ? undefined
        : readText(['http', 'auth', 'basic', 'passwordFile'], basic.passwordFile),
    ]);
    auth = {
      token,
      basic:
        basic === undefined || password === undefined ? undefined : { username: basic.username, password },
    };
  }

  const keys = await Promise.all(
    security.signing.keys.map(async (k, i) => {
      const path = ['security', 'signing', 'keys', i, 'file'];
      const got = await read(path, k.file);
      if (!got) return undefined;
      const key = trimTrailingNewline(got.bytes);
      if (key.length < MIN_SIGNING_KEY_BYTES) {
        fail(
          path,
          `signing key ${k.id} in ${got.full} is ${key.length} bytes; keys need at least ${MIN_SIGNING_KEY_BYTES} (make one with: openssl rand -base64 48)`,
        );
        return undefined;
      }
      return { id: k.id, file: k.file, key };
    }),
  );

  if (problems.length > 0) return { problems };
  return {
    config: {
      http: { ...http, tls, auth },
      log: parsed.log,
      metrics: {
        maxServiceSeries: parsed.metrics.maxServiceSeries,
        processMetrics: parsed.metrics.processMetrics,
        otlp: parsed.metrics.otlp && {
          endpoint: parsed.metrics.otlp.endpoint,
          intervalMs: parsed.metrics.otlp.interval,
          headers: parsed.metrics.otlp.headers,
          protocol: parsed.metrics.otlp.protocol,
        },
      },
      security: {
        signing: {
          mode: security.signing.mode,
          keys: keys.filter((k) => k !== undefined),
          replayWindowMs: security.signing.replayWindow,
        },
        allowSources: security.allowSources,
        onLinkOnly: security.onLinkOnly,
        rateLimit: security.rateLimit,
        duplicateWindowMs: security.duplicateWindow,
      },
      sd: parsed.sd,
      listeners: parsed.listeners,
      publishers: parsed.publishers,
      warnings,
    },
  };
}
