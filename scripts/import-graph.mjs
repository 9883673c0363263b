#!/usr/bin/env node
// The import graph of src/: prints every import cycle and every import that breaks the layering rules below,
// then the largest files. Exits 1 when it finds either, so it can guard the lint step once the tree obeys it.
//   node scripts/import-graph.mjs            # report
//   node scripts/import-graph.mjs --quiet    # only findings
//   node scripts/import-graph.mjs --src DIR  # another tree (the script's own test)
// Relative imports are read from the source text (import/export … from '…', import('…')); `import type` and
// `export type` count as edges for cycles but not as runtime dependencies of the library.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const srcArg = process.argv.indexOf('--src');
const src = srcArg > 0 ? resolve(process.argv[srcArg + 1]) : join(root, 'src');
const quiet = process.argv.includes('--quiet');

// Which folder may import which: a layer imports only the layers listed for it (and itself).
// index.ts is the package entry: the library plus its OpenTelemetry instruments (docs/architecture.md).
const LAYERS = {
  discovery: [],
  metrics: ['discovery'],
  agent: ['discovery', 'metrics'],
  cli: ['discovery', 'metrics', 'agent'],
  web: ['agent'],
  'index.ts': ['discovery', 'metrics'],
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const SPECIFIER =
  /(?:^|[\s;])(import|export)(\s+type)?\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function edgesOf(file) {
  // Comments out first: a doc comment's "… from 'all'" is not an import.
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const out = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    if (!spec.startsWith('.')) {
      out.push({ target: spec, typeOnly: Boolean(m[2]), external: true });
      continue;
    }
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push({ target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

const rel = (f) => relative(src, f);
const layerOf = (f) => rel(f).split('/')[0];
const all = files(src);
const parsed = new Map(all.map((f) => [f, edgesOf(f)]));
const graph = new Map(
  all.map((f) => [f, parsed.get(f).filter((e) => !e.external && all.includes(e.target))]),
);

// The library loads only Node's standard library; OpenTelemetry's API is allowed as a type.
const LIBRARY_PACKAGES = (e) =>
  e.target.startsWith('node:') || (e.typeOnly && e.target === '@opentelemetry/api');

// Tarjan's strongly connected components: every component of more than one file is a cycle.
const cycles = [];
{
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { target: w } of graph.get(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(rel(w));
      } while (w !== v);
      if (comp.length > 1) cycles.push(comp.sort());
    }
  };
  for (const v of all) if (!idx.has(v)) visit(v);
}

const upward = [];
for (const [from, edges] of graph) {
  const a = layerOf(from);
  if (!(a in LAYERS)) continue;
  for (const { target, typeOnly } of edges) {
    const b = layerOf(target);
    if (a === b || !(b in LAYERS)) continue;
    if (!LAYERS[a].includes(b)) upward.push(`${rel(from)} -> ${rel(target)}${typeOnly ? ' (type)' : ''}`);
  }
}

for (const [from, edges] of parsed) {
  if (layerOf(from) !== 'discovery') continue;
  for (const e of edges)
    if (e.external && !LIBRARY_PACKAGES(e)) upward.push(`${rel(from)} -> package ${e.target}`);
}

const outside = [...new Set(all.map(layerOf).filter((l) => !(l in LAYERS)))];
console.log(`import graph of src/: ${all.length} files`);
console.log(`cycles: ${cycles.length}`);
for (const c of cycles) console.log(`  ${c.join(' <-> ')}`);
console.log(`imports against the layers (discovery, then metrics, then agent, cli, web): ${upward.length}`);
for (const u of upward) console.log(`  ${u}`);
if (outside.length) console.log(`outside any layer: ${outside.join(', ')}`);
if (!quiet) {
  const sizes = all
    .map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length])
    .sort((x, y) => y[1] - x[1]);
  console.log('largest files (lines):');
  for (const [f, n] of sizes.slice(0, 8)) console.log(`  ${String(n).padStart(5)}  ${f}`);
}
process.exit(cycles.length || upward.length || outside.length ? 1 : 0);
