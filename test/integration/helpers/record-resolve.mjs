// Module hooks that print every resolved module URL to stderr as `resolved <url>`, so a test can list
// exactly what importing the library loads. Registered with: node --import ./record-resolve.mjs
import { register } from 'node:module';

if (!process.env.VM_RESOLVE_HOOK_LOADED) {
  process.env.VM_RESOLVE_HOOK_LOADED = '1';
  register(
    `data:text/javascript,${encodeURIComponent(
      'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("resolved " + r.url + "\\n"); return r; }',
    )}`,
  );
}
