/** The dashboards this project ships, by file name, and how they are written to disk. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { overviewDashboard } from './overview.js';
import { serviceDashboard } from './service.js';

export const DASHBOARDS: readonly { file: string; build: () => dashboard.Dashboard }[] = [
  { file: 'vault-multicast-overview.json', build: overviewDashboard },
  { file: 'vault-multicast-service.json', build: serviceDashboard },
];

/** The exact bytes committed for a dashboard: two-space JSON and a final newline. */
export function render(d: dashboard.Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

export async function writeDashboards(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const { file, build } of DASHBOARDS) {
    const path = join(dir, file);
    await writeFile(path, render(build()));
    written.push(path);
  }
  return written;
}
