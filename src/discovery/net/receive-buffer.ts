import type { Socket } from 'node:dgram';
import { errorMessage } from '../errors.js';
import { readRmemMax } from './sysctl.js';

export interface ReceiveBufferReport {
  requested: number;
  /** SO_RCVBUF as the kernel reports it after the request (Linux doubles it for bookkeeping). */
  effective: number | undefined;
  /** net.core.rmem_max, when readable. */
  rmemMax: number | undefined;
  warning: string | undefined;
}

/**
 * Asks for a receive buffer big enough to absorb bursts and reports what the kernel granted. Linux silently
 * caps SO_RCVBUF at net.core.rmem_max (about 208 KB by default, which a 100k/s burst overruns in
 * milliseconds), so the cap is read from /proc and turned into a warning that says how to lift it.
 */
export function sizeReceiveBuffer(socket: Socket, requested: number): ReceiveBufferReport {
  let warning: string | undefined;
  try {
    socket.setRecvBufferSize(requested);
  } catch (err) {
    warning = `could not set the receive buffer to ${requested} bytes: ${errorMessage(err)}`;
  }
  let effective: number | undefined;
  try {
    effective = socket.getRecvBufferSize();
  } catch {
    effective = undefined;
  }
  const rmemMax = readRmemMax();
  if (warning === undefined) {
    const capped =
      rmemMax !== undefined ? rmemMax < requested : effective !== undefined && effective < requested;
    if (capped) {
      warning =
        `receive buffer capped at ${rmemMax ?? effective} bytes by net.core.rmem_max (asked for ${requested}); ` +
        `bursts may be dropped by the kernel. Raise it with: sysctl -w net.core.rmem_max=${requested}`;
    }
  }
  return { requested, effective, rmemMax, warning };
}
