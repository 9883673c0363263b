/**
 * The package's version and root directory, found from this file's location so that it works the same from
 * `src/` (tests run through vitest) and from `dist/src/` (the built agent).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
        if (pkg.name === 'vault-multicast') return dir;
      } catch {
        // an unreadable package.json further down the tree is not ours; keep walking up
      }
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

export const PACKAGE_ROOT = findPackageRoot();

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();

/**
 * The source revision the agent was built from, for build_info: VAULT_MULTICAST_REVISION (the image sets it
 * from its REVISION build argument), else dist/REVISION (written by `npm run build` in a git clone and shipped
 * in the npm package), else "unknown".
 */
function readRevision(): string {
  const fromEnv = process.env.VAULT_MULTICAST_REVISION?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(join(PACKAGE_ROOT, 'dist', 'REVISION'), 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export const REVISION = readRevision();
