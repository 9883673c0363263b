/**
 * Headers on every response: the page runs only its own script and style, and nothing may frame it except
 * the origins of `http.embedOrigins` (read per request, so a reload applies at once).
 */
import type { NextFunction, Request, Response } from 'express';

const POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'";

export function contentSecurityPolicy(embedOrigins: readonly string[]): string {
  return `${POLICY}; frame-ancestors ${embedOrigins.length === 0 ? "'none'" : embedOrigins.join(' ')}`;
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy([]);

export const securityHeaders =
  (embedOrigins: () => readonly string[]) =>
  (_req: Request, res: Response, next: NextFunction): void => {
    const origins = embedOrigins();
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(origins));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // X-Frame-Options cannot name origins; browsers that know frame-ancestors ignore it anyway.
    if (origins.length === 0) res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  };
