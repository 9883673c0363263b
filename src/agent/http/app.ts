/**
 * The agent's HTTP API as an express application. Every path has a fixed set of methods: a wrong one gets
 * 405 with Allow, an unknown path a JSON 404. GET routes answer HEAD too.
 */
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { sdTargetGroups } from '../../metrics/sd-targets.js';
import { drained, serveMetrics } from '../../metrics/serve.js';
import type { ServiceStateView } from '../api-types.js';
import { eachServiceView, type PageRequest, servicePage, statusView } from '../views.js';
import type { HttpHost } from './host.js';
import { hostGuard } from './host-check.js';
import { mutatingGate } from './mutating.js';
import { ClientRateLimiter } from './rate-limit.js';
import { scrapeAuth } from './scrape-auth.js';
import { securityHeaders } from './security-headers.js';
import { slicedJsonChunks } from './sliced-json.js';
import type { EventHub } from './sse.js';
import { mountPage } from './static.js';

const SERVICE_STATES = new Set<ServiceStateView>(['up', 'stale', 'gone']);

function first(q: unknown): string | undefined {
  if (typeof q === 'string') return q;
  if (Array.isArray(q) && typeof q[0] === 'string') return q[0];
  return undefined;
}

/** Largest page of /api/v1/services: ~4 MB of JSON. */
const MAX_PAGE = 10_000;

function pageRequest(limit: string, offset = '0'): PageRequest | { error: string } {
  const l = /^\d{1,9}$/.test(limit) ? Number(limit) : Number.NaN;
  const o = /^\d{1,9}$/.test(offset) ? Number(offset) : Number.NaN;
  if (!(l >= 1 && l <= MAX_PAGE)) return { error: `limit must be an integer from 1 to ${MAX_PAGE}` };
  if (!(o >= 0)) return { error: 'offset must be a non-negative integer' };
  return { offset: o, limit: l };
}

/**
 * A JSON body written in pieces, built in slices and waiting for the client to take each: the service list is
 * as large as the registry allows (~40 MB at 100,000 services), which as one string could pass V8's limit and
 * would hold the event loop while it is built.
 */
async function sendJsonChunks(res: Response, chunks: AsyncIterable<Buffer>): Promise<void> {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drained(res, res);
    }
    res.end();
  } catch (err) {
    // The client went away (or a view failed half-way): a cut-off body is all that is left to say.
    res.destroy(err as Error);
  }
}

export interface AppDeps {
  agent: HttpHost;
  hub: EventHub;
  webRoot: string;
  /** The host of the address this app is served on, for the Host check. */
  listenHost: string;
}

export function statusExtras(agent: HttpHost) {
  const http = agent.config?.http;
  return {
    ready: agent.readiness().ready,
    admin: agent.adminMode(),
    reloadEnabled: http?.enableReload ?? false,
    embedOrigins: http?.embedOrigins ?? [],
  };
}

export function buildApp({ agent, hub, webRoot, listenHost }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(securityHeaders(() => agent.config?.http.embedOrigins ?? []));
  const checkHost = hostGuard(
    () => agent.config?.http,
    () => listenHost,
  );
  app.use((req, res, next) =>
    checkHost(
      req,
      res,
      () => next(),
      () => agent.countHttpRejection('bad_host'),
    ),
  );

  const limiter = new ClientRateLimiter(() => agent.config?.http.mutatingRateLimitPerMinute ?? 10);
  const httpConfig = () => agent.config?.http;
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  const route = (path: string, methods: { get?: RequestHandler; post?: RequestHandler[] }) => {
    const r = app.route(path);
    const allow: string[] = [];
    if (methods.get) {
      r.get(noStore, methods.get);
      allow.push('GET', 'HEAD');
    }
    if (methods.post) {
      r.post(noStore, ...methods.post);
      allow.push('POST');
    }
    r.all((_req: Request, res: Response) => {
      res.setHeader('Allow', allow.join(', '));
      res.status(405).json({ error: `method not allowed; use ${allow.join(', ')}` });
    });
  };

  app.use(
    ['/metrics', '/api/v1/sd'],
    scrapeAuth(() => agent.config?.http.basicAuthUsers),
  );
  route('/metrics', {
    get: (req, res) => serveMetrics(req, res, agent.metrics()),
  });
  route('/-/healthy', { get: (_req, res) => void res.type('text/plain').send('OK\n') });
  route('/-/ready', {
    get: (_req, res) => {
      const r = agent.readiness();
      if (r.ready) res.type('text/plain').send('OK\n');
      else res.status(503).json({ ready: false, reason: r.reason });
    },
  });
  route('/-/reload', {
    post: [
      mutatingGate({
        http: httpConfig,
        enabled: (h) => h.enableReload,
        setting: 'http.enableReload',
        limiter,
      }),
      async (_req, res) => {
        const outcome = await agent.requestReload();
        if (outcome.ok) res.json({ status: 'reloaded' });
        else
          res.status(500).json({
            error: 'reload failed; the previous configuration keeps running',
            reason: outcome.error,
          });
      },
    ],
  });

  route('/api/v1/services', {
    get: (req, res) => {
      const state = first(req.query.state);
      if (state !== undefined && !SERVICE_STATES.has(state as ServiceStateView)) {
        res.status(400).json({ error: 'state must be up, stale or gone' });
        return;
      }
      const filter = {
        type: first(req.query.type),
        state: state as ServiceStateView | undefined,
        listener: first(req.query.listener),
      };
      const limit = first(req.query.limit);
      if (limit === undefined) {
        void sendJsonChunks(res, slicedJsonChunks('{"services":[', eachServiceView(agent, filter), ']}'));
        return;
      }
      const page = pageRequest(limit, first(req.query.offset));
      if ('error' in page) {
        res.status(400).json({ error: page.error });
        return;
      }
      const { services, total } = servicePage(agent, filter, performance.now(), page);
      const next = page.offset + services.length;
      res.json({ services, total, ...(next < total ? { nextOffset: next } : {}) });
    },
  });
  route('/api/v1/status', { get: (_req, res) => void res.json(statusView(agent, statusExtras(agent))) });
  route('/api/v1/sd', {
    get: (_req, res, next) => void sdTargetGroups(agent).then((groups) => res.json(groups), next),
  });
  route('/api/v1/events', { get: (req, res) => hub.handle(req, res) });

  const adminGate = mutatingGate({
    http: httpConfig,
    enabled: (h) => h.enableAdmin,
    setting: 'http.enableAdmin',
    limiter,
  });
  const listenerAction =
    (action: 'resetMetrics' | 'refresh'): RequestHandler =>
    (req, res) => {
      const name = String(req.params.name);
      const entry = agent.listenerEntry(name);
      if (!entry) {
        res.status(404).json({ error: 'no such listener' });
        return;
      }
      if (action === 'refresh') entry.listener.refresh();
      else entry.listener.resetMetrics();
      agent.log.info({ listener: name, action }, 'listener action');
      res.json({ status: 'ok', listener: name, action });
    };
  route('/api/v1/listeners/:name/reset-metrics', { post: [adminGate, listenerAction('resetMetrics')] });
  route('/api/v1/listeners/:name/refresh', { post: [adminGate, listenerAction('refresh')] });

  mountPage(app, webRoot);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  // Express 5 forwards rejected promises here; the reason stays in the log, not in the response.
  app.use((err: unknown, req: Request, res: Response, _next: unknown) => {
    const status = (err as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad request' });
      return;
    }
    agent.log.error(
      { err: err instanceof Error ? err.message : String(err), path: req.path },
      'request failed',
    );
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
    else res.end();
  });
  return app;
}
