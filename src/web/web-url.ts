/**
 * The URL Connect opens for a web service. Built only from a scheme the page chooses and an address that
 * is nothing but host and port, so an announcement cannot steer the browser to another scheme or site.
 */
import type { ServiceView } from '../agent/api-types.js';

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
