// Module hooks that print every resolved module URL to stderr as `resolved <url>`, so a test can list
// exactly what importing the library loads. Registered with: node --import ./record-resolve.mjs
// registerHooks runs the hook on the main thread: hooks given to register() run on a loader thread whose
// stderr writes can be lost when the process exits first, which made the list come back short now and then.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    process.stderr.write(`resolved ${resolved.url}\n`);
    return resolved;
  },
});
