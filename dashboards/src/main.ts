/**
 * `npm run dashboards`: regenerates dashboards/*.json from the TypeScript sources. An optional argument names
 * another output directory (the CI check writes to a temporary one and compares).
 */
import { fileURLToPath } from 'node:url';
import { writeDashboards } from './build.js';

// dist/dashboards/src/main.js → the repository's dashboards/ directory
const defaultDir = fileURLToPath(new URL('../../../dashboards/', import.meta.url));
const dir = process.argv[2] ?? defaultDir;
for (const path of await writeDashboards(dir)) console.log(`wrote ${path}`);
