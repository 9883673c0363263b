/**
 * The widget's Connect, which handed the selected service's data to the application. In the browser the
 * page tells scripts on the page (a `vault-multicast:connect` event on window, cancelable), a parent window
 * in embed mode (embed.ts), and otherwise opens web services in a new tab and copies the address of the others.
 */
import type { ServiceView } from '../agent/api-types.js';
import { webUrl } from './web-url.js';

export const CONNECT_EVENT = 'vault-multicast:connect';

export interface ConnectDetail {
  /** The announcement as received — what the widget's Connect emitted. */
  data: Record<string, unknown>;
  service: ServiceView;
  /** The http(s) URL the page would open, when the service looks like a web service. */
  url: string | undefined;
}

/** Announces the connect to embedders; false when one of them took it over (preventDefault). */
export function dispatchConnect(view: ServiceView): {
  proceed: boolean;
  url: string | undefined;
  detail: ConnectDetail;
} {
  const url = webUrl(view);
  const detail: ConnectDetail = { data: structuredClone(view.data), service: structuredClone(view), url };
  const proceed = window.dispatchEvent(
    new CustomEvent<ConnectDetail>(CONNECT_EVENT, { detail, cancelable: true }),
  );
  return { proceed, url, detail };
}
