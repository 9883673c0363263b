/**
 * The gate in front of every endpoint that changes state (reload, reset metrics, refresh). In order:
 * disabled → 403; cross-site request → 403; over the per-client rate → 429 with Retry-After; bad or missing
 * credentials → 401 with a challenge; a body that is not empty or a small JSON object → 413/415/400.
 * Only then does the handler run. Browsers cannot forge a same-origin POST with `application/json`, and the
 * Origin / Sec-Fetch-Site checks refuse the simple (form) requests they can send cross-site.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { HttpConfig } from '../config/types.js';
import { checkAuthorization } from './auth.js';
import type { ClientRateLimiter } from './rate-limit.js';

export const MAX_MUTATING_BODY_BYTES = 1024;

function fail(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

/** True when the request comes from another site (browser-set headers; non-browser clients send neither). */
export function isCrossSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site.toLowerCase() === 'cross-site') return true;
  const origin = req.get('origin');
  if (origin === undefined) return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return true; // 'null' (sandboxed frames, file://) and garbage are never same-origin
  }
  const host = req.get('host');
  return host === undefined || originHost.toLowerCase() !== host.toLowerCase();
}

function readBody(req: Request, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        // Drain the rest without keeping it; the response closes the connection.
        req.resume();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

export interface MutatingGateOptions {
  http: () => HttpConfig | undefined;
  enabled: (http: HttpConfig) => boolean;
  /** Named in the 403 when disabled, e.g. 'http.enableReload'. */
  setting: string;
  limiter: ClientRateLimiter;
}

export function mutatingGate(opts: MutatingGateOptions): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const http = opts.http();
    if (http === undefined || !opts.enabled(http)) {
      return fail(res, 403, `this endpoint is disabled; set ${opts.setting}: true to enable it`);
    }
    if (isCrossSite(req)) return fail(res, 403, 'cross-site request refused');
    const decision = opts.limiter.take(req.socket.remoteAddress ?? 'unknown');
    if (!decision.ok) {
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      return fail(res, 429, 'too many requests');
    }
    const auth = checkAuthorization(req.get('authorization'), http.auth);
    if (!auth.ok) {
      // Scripts (the page marks its requests with X-Requested-With) get no challenge: a Basic challenge would
      // make the browser open its own password prompt on top of the page's dialog.
      if (auth.challenge && req.get('x-requested-with') === undefined) {
        res.setHeader('WWW-Authenticate', auth.challenge);
      }
      return fail(res, 401, 'authentication required');
    }
    const declared = Number(req.get('content-length') ?? '0');
    if (Number.isFinite(declared) && declared > MAX_MUTATING_BODY_BYTES) {
      res.setHeader('Connection', 'close');
      return fail(res, 413, `body larger than ${MAX_MUTATING_BODY_BYTES} bytes`);
    }
    const type = req.get('content-type');
    const mediaType = type?.split(';')[0]?.trim().toLowerCase();
    if (type !== undefined && mediaType !== 'application/json') {
      return fail(res, 415, 'only an empty body or application/json is accepted');
    }
    let body: Buffer | 'too_large';
    try {
      body = await readBody(req, MAX_MUTATING_BODY_BYTES);
    } catch {
      return fail(res, 400, 'could not read the body');
    }
    if (body === 'too_large') {
      res.setHeader('Connection', 'close');
      return fail(res, 413, `body larger than ${MAX_MUTATING_BODY_BYTES} bytes`);
    }
    if (body.length > 0) {
      if (mediaType !== 'application/json') return fail(res, 415, 'a body must be application/json');
      try {
        JSON.parse(body.toString('utf8'));
      } catch {
        return fail(res, 400, 'body is not valid JSON');
      }
    }
    next();
  };
}
