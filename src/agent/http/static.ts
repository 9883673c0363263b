/**
 * The page at `/`: the built web app from dist/web when it exists, otherwise a plain landing page with links
 * (no script, no style, so it satisfies the same Content-Security-Policy).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import { PACKAGE_ROOT, VERSION } from '../../metrics/version.js';

export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web');

const LANDING = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>vault-multicast agent</title></head>
<body>
<h1>vault-multicast agent ${VERSION}</h1>
<p>The discovery page is not built (run <code>npm run build:web</code>). Endpoints:</p>
<ul>
<li><a href="metrics">/metrics</a> (Prometheus)</li>
<li><a href="api/v1/services">/api/v1/services</a></li>
<li><a href="api/v1/status">/api/v1/status</a></li>
<li><a href="api/v1/sd">/api/v1/sd</a> (Prometheus HTTP service discovery)</li>
<li><a href="-/healthy">/-/healthy</a>, <a href="-/ready">/-/ready</a></li>
</ul>
</body>
</html>
`;

/** The page's paths as URLs: '/' and every file under the web root. */
function pagePaths(webRoot: string): Set<string> {
  const paths = new Set(['/']);
  for (const file of readdirSync(webRoot, { recursive: true, withFileTypes: true })) {
    if (!file.isFile() || file.name.startsWith('.')) continue;
    const rel = join(file.parentPath, file.name).slice(webRoot.length).split('\\').join('/');
    paths.add(rel.startsWith('/') ? rel : `/${rel}`);
  }
  return paths;
}

/** The page is read-only: another method on one of its paths is 405 with Allow, not a 404 that hides it. */
function readOnly(res: Response): void {
  res.setHeader('Allow', 'GET, HEAD');
  res.status(405).json({ error: 'method not allowed; use GET, HEAD' });
}

export function mountPage(app: Express, webRoot: string): void {
  if (existsSync(join(webRoot, 'index.html'))) {
    const paths = pagePaths(webRoot);
    app.use((req: Request, res: Response, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD' && paths.has(req.path)) readOnly(res);
      else next();
    });
    app.use(
      express.static(webRoot, {
        index: ['index.html'],
        dotfiles: 'ignore',
        redirect: false,
        fallthrough: true,
        setHeaders: (res, path) => {
          // index.html must be re-fetched after an upgrade; the scripts it names are cheap to revalidate too.
          res.setHeader('Cache-Control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=300');
        },
      }),
    );
    return;
  }
  app
    .route('/')
    .get((_req, res) => {
      res.type('html').send(LANDING);
    })
    .all((_req, res) => readOnly(res));
}
