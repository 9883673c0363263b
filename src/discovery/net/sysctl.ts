import { readFileSync } from 'node:fs';

/**
 * The kernel's cap on SO_RCVBUF (`net.core.rmem_max`) in bytes, or undefined where it cannot be read (not
 * Linux, or /proc not mounted). Read once per socket set-up, never on the receive path.
 */
export function readRmemMax(path = '/proc/sys/net/core/rmem_max'): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
