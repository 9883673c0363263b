/**
 * Embed mode: the page inside a frame of an origin the agent allows (`http.embedOrigins`, which is also the
 * only list in its frame-ancestors). There Connect hands the chosen announcement to the embedding
 * application with postMessage, addressed to that origin only, as the widget's `return_signal` did.
 */
import type { StatusView } from '../agent/api-types.js';
import { CONNECT_EVENT, type ConnectDetail } from './connect.js';

/** What the parent window receives: `{ type: 'vault-multicast:connect', data, service, url }`. */
export interface ConnectMessage extends ConnectDetail {
  type: typeof CONNECT_EVENT;
}

export function isFramed(): boolean {
  return window.parent !== window;
}

/**
 * The origins to address. Chromium and Safari name the parent's origin; elsewhere every allowed origin is
 * addressed, and the browser delivers to the one the parent really has (postMessage checks the target).
 */
export function embedTargets(status: StatusView | undefined): string[] {
  const allowed = status?.embedOrigins ?? [];
  if (!isFramed() || allowed.length === 0) return [];
  const parent = location.ancestorOrigins?.[0];
  if (parent !== undefined) return allowed.includes(parent) ? [parent] : [];
  return allowed;
}

export function postConnect(targets: readonly string[], detail: ConnectDetail): void {
  const message: ConnectMessage = { type: CONNECT_EVENT, ...detail };
  for (const origin of targets) window.parent.postMessage(message, origin);
}
