/**
 * DNS rebinding defence. A page on evil.example can make its own name resolve to 127.0.0.1, and the browser
 * then sends our API its requests with `Host: evil.example` and reads the answers as same-origin. So on a
 * loopback address (or when `http.allowedHosts` is set) the page, the API, the event stream and every mutating
 * endpoint answer only a Host that names this agent: the listen address, `localhost`, a loopback literal or an
 * allowed host; anything else gets 421. /metrics and the health probes answer any Host: Prometheus and
 * kubelets address the agent by whatever name they know it by, and those answers hold nothing to steal.
 */
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { isLoopbackHost } from '../config/addresses.js';
import type { HttpConfig } from '../config/types.js';

const OPEN_PATHS = new Set(['/metrics', '/-/healthy', '/-/ready']);

/** The host name of a Host header, lower case, without port or IPv6 brackets; undefined when malformed. */
export function hostName(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return v6[1];
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m?.[1]?.replace(/\.$/, '');
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Whether requests naming `host` are ours under `http`; always true when the check does not apply. */
export function hostAllowed(http: HttpConfig, listenHost: string, host: string | undefined): boolean {
  const allowed = (http.allowedHosts ?? []).map((h) => unbracket(h.toLowerCase()));
  const listen = unbracket(listenHost.toLowerCase());
  if (!isLoopbackHost(listen) && allowed.length === 0) return true;
  // HTTP/1.0 clients may send no Host; browsers always send one.
  if (host === undefined) return true;
  const name = hostName(host);
  if (name === undefined) return false;
  if (name === listen || allowed.includes(name)) return true;
  return name === 'localhost' || (isIP(name) !== 0 && isLoopbackHost(name));
}

export function hostGuard(http: () => HttpConfig | undefined, listenHost: () => string) {
  return (req: Request, res: Response, next: NextFunction, refused: () => void): void => {
    const cfg = http();
    if (cfg === undefined || OPEN_PATHS.has(req.path) || hostAllowed(cfg, listenHost(), req.headers.host)) {
      next();
      return;
    }
    refused();
    res
      .status(421)
      .json({ error: 'this agent does not answer to that Host name; add it to http.allowedHosts' });
  };
}
