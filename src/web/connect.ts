/**
 * The widget's Connect, which handed the selected service's data to the application. In the browser the
 * page tells embedders (a `vault-multicast:connect` event on window, cancelable) and then, unless an
 * embedder handled it, opens web services in a new tab and copies the address of the others.
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
export function dispatchConnect(view: ServiceView): { proceed: boolean; url: string | undefined } {
  const url = webUrl(view);
  const detail: ConnectDetail = { data: structuredClone(view.data), service: structuredClone(view), url };
  const proceed = window.dispatchEvent(
    new CustomEvent<ConnectDetail>(CONNECT_EVENT, { detail, cancelable: true }),
  );
  return { proceed, url };
}
