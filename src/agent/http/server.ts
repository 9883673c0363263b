/**
 * Binds the express app on the configured address, over TLS when a certificate is configured. Closing ends
 * the event streams and idle keep-alive connections so that shutdown does not wait for browsers.
 */
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Agent } from '../agent.js';
import type { HttpConfig } from '../config/types.js';
import { RateLimitedLog } from '../logger.js';
import { buildApp, statusExtras } from './app.js';
import { EventHub, MAX_QUEUED_BYTES } from './sse.js';
import { DEFAULT_WEB_ROOT } from './static.js';

export interface HttpServerHandle {
  address(): { address: string; port: number };
  close(): Promise<void>;
}

/** Splits `host:port` / `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`invalid listen address: ${listen}`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export async function startHttpServer(
  agent: Agent,
  http: HttpConfig,
  opts: { webRoot?: string | undefined } = {},
): Promise<HttpServerHandle> {
  const slowClients = new RateLimitedLog(agent.log);
  const hub = new EventHub(agent, {
    statusExtras: () => statusExtras(agent),
    onSlowClient: () =>
      slowClients.log(
        'warn',
        'sse-slow',
        { queueLimitBytes: MAX_QUEUED_BYTES },
        'event stream client too slow; disconnected',
      ),
  });
  const app = buildApp({ agent, hub, webRoot: opts.webRoot ?? DEFAULT_WEB_ROOT });
  const server: Server = http.tls
    ? createHttps({ cert: http.tls.cert, key: http.tls.key }, app)
    : createHttp(app);
  // Slowloris bounds: headers within 10 s, whole requests within 30 s (event streams are responses, not requests).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const { host, port } = parseListen(http.listen);
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
    throw err;
  }
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return {
    address() {
      const a = server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    },
    close() {
      hub.close();
      slowClients.close();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Whatever is still open after a moment (a slow client) is cut.
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
    },
  };
}
