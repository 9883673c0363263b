/**
 * The widget's Connect, which handed the selected service's data to the application. In the browser the
 * page tells embedders (a `vault-multicast:connect` event on window, cancelable) and then, unless an
 * embedder handled it, opens web services in a new tab and copies the address of the others.
 */
import type { ServiceView } from '../agent/api-types.js';

export const CONNECT_EVENT = 'vault-multicast:connect';

export interface ConnectDetail {
  /** The announcement as received — what the widget's Connect emitted. */
  data: Record<string, unknown>;
  service: ServiceView;
  /** The http(s) URL the page would open, when the service looks like a web service. */
  url: string | undefined;
}

// host:port with a DNS name, an IPv4 address or a bracketed IPv6 address: nothing that could smuggle a
// path, user info or another scheme into the URL.
const ADDR = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/;

function schemeOf(view: ServiceView): 'http' | 'https' | undefined {
  const declared = view.data.scheme ?? view.data.protocol;
  if (declared === 'https' || declared === 'http') return declared;
  const type = view.type.toLowerCase();
  if (/https/.test(type)) return 'https';
  if (/http|web|www|grafana|prometheus|dashboard/.test(type)) return 'http';
  return undefined;
}

/** The URL to open for a web service, or undefined when the service isn't one or its address is odd. */
export function webUrl(view: ServiceView): string | undefined {
  const scheme = schemeOf(view);
  if (!scheme || !ADDR.test(view.addr)) return undefined;
  try {
    const url = new URL(`${scheme}://${view.addr}/`);
    return url.protocol === `${scheme}:` ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Announces the connect to embedders; false when one of them took it over (preventDefault). */
export function dispatchConnect(view: ServiceView): { proceed: boolean; url: string | undefined } {
  const url = webUrl(view);
  const detail: ConnectDetail = { data: structuredClone(view.data), service: structuredClone(view), url };
  const proceed = window.dispatchEvent(
    new CustomEvent<ConnectDetail>(CONNECT_EVENT, { detail, cancelable: true }),
  );
  return { proceed, url };
}
