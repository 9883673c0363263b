/**
 * Binds the express app on the configured address, over TLS when a certificate is configured. Closing ends
 * the event streams and idle keep-alive connections so that shutdown does not wait for browsers.
 */
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MAX_CONNECTIONS } from '../config/schema.js';
import type { HttpConfig } from '../config/types.js';
import { RateLimitedLog } from '../logger.js';
import { buildApp, statusExtras } from './app.js';
import type { HttpHost } from './host.js';
import { EventHub, MAX_QUEUED_BYTES } from './sse.js';
import { DEFAULT_WEB_ROOT } from './static.js';

/** Request line plus headers at most; more is 431 (Node's default is 16 KiB, stated here on purpose). */
export const MAX_HEADER_BYTES = 16 * 1024;
const IDLE_SOCKET_MS = 60_000;

/** What a request the parser refused gets: 431 for headers too large, 408 for too slow, 400 otherwise. */
export function clientErrorAnswer(code: string | undefined): { status: string; reason: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: '431 Request Header Fields Too Large', reason: 'headers_too_large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: '408 Request Timeout', reason: 'timeout' };
  return { status: '400 Bad Request', reason: 'bad_request' };
}

export interface HttpServerHandle {
  address(): { address: string; port: number };
  /** Applies what a reload may change on the running server (everything else is read per request). */
  configure(http: HttpConfig): void;
  close(): Promise<void>;
}

/** Splits `host:port` / `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`invalid listen address: ${listen}`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the address is in use (another agent or program listens there)',
  EADDRNOTAVAIL: 'no interface of this host has that address',
  EACCES: 'permission denied (ports below 1024 need privileges)',
};

/** A bind failure that names the setting to change, since the operator meets it as a config problem. */
function listenError(err: unknown, listen: string): unknown {
  const code = (err as { code?: string }).code;
  const problem = code === undefined ? undefined : LISTEN_PROBLEMS[code];
  if (problem === undefined) return err;
  return Object.assign(new Error(`http.listen ${listen}: ${problem} (${code}); change http.listen`), {
    code,
  });
}

export async function startHttpServer(
  agent: HttpHost,
  http: HttpConfig,
  opts: { webRoot?: string | undefined } = {},
): Promise<HttpServerHandle> {
  const slowClients = new RateLimitedLog(agent.log);
  const hub = new EventHub(agent, {
    statusExtras: () => statusExtras(agent),
    onReject: (reason) => agent.countHttpRejection(reason),
    onSlowClient: () =>
      slowClients.log(
        'warn',
        'sse-slow',
        { queueLimitBytes: MAX_QUEUED_BYTES },
        'event stream client too slow; disconnected',
      ),
  });
  const { host, port } = parseListen(http.listen);
  const app = buildApp({ agent, hub, webRoot: opts.webRoot ?? DEFAULT_WEB_ROOT, listenHost: host });
  const limits = {
    // Slowloris bounds: headers within 10 s, whole requests within 30 s (event streams are responses, not
    // requests), checked every 2 s rather than Node's 30 s so a held connection costs seconds, not a minute.
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: 2_000,
    maxHeaderSize: MAX_HEADER_BYTES,
  };
  const server: Server = http.tls
    ? createHttps({ ...limits, cert: http.tls.cert, key: http.tls.key }, app)
    : createHttp(limits, app);
  // A socket that says nothing for a minute is closed (event streams send a heartbeat every 15 s).
  server.setTimeout(IDLE_SOCKET_MS, (socket) => socket.destroy());
  // Past the cap Node closes new connections at once: descriptors stay bounded whatever clients hold open.
  server.maxConnections = http.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.on('drop', () => agent.countHttpRejection('connection_limit'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    hub.close();
    slowClients.close();
    throw listenError(err, http.listen);
  }
  // Out of descriptors (EMFILE/ENFILE on accept) or any other server error: logged and counted, never fatal;
  // Node keeps accepting once descriptors are free again.
  const serverErrors = new RateLimitedLog(agent.log);
  server.on('error', (err: NodeJS.ErrnoException) => {
    agent.countHttpRejection('accept_error');
    serverErrors.log(
      'error',
      `accept:${err.code}`,
      { code: err.code, err: err.message },
      'http server error',
    );
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Answered, then destroyed: a half-closed socket would stay open for as long as the client keeps its end.
    if (socket.writable) {
      const answer = clientErrorAnswer(err.code);
      agent.countHttpRejection(answer.reason);
      socket.end(`HTTP/1.1 ${answer.status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
        socket.destroy(),
      );
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  });
  return {
    address() {
      const a = server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    },
    configure(next) {
      server.maxConnections = next.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
      // A renewed certificate on the same address: a second server could not bind the port while this one
      // holds it, so new handshakes take the new pair and open connections keep theirs.
      if (next.tls && server instanceof HttpsServer)
        server.setSecureContext({ cert: next.tls.cert, key: next.tls.key });
    },
    close() {
      hub.close();
      slowClients.close();
      serverErrors.close();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Whatever is still open after a moment (a slow client) is cut.
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
    },
  };
}
