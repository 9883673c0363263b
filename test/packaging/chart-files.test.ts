/**
 * The chart packages copies of the project's alert rules and dashboards (a chart can only hold files under its
 * own directory). They must be byte-identical to the sources, or operators would run rules and dashboards that
 * the project's own tests never checked. scripts/sync-chart-files.sh refreshes them.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FILES = resolve(ROOT, 'helm/vault-multicast/files');
const FIX = 'run `bash scripts/sync-chart-files.sh`';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

describe('chart copies of alerts and dashboards', () => {
  it('holds config/prometheus/alerts.yaml byte for byte', () => {
    const source = readFileSync(resolve(ROOT, 'config/prometheus/alerts.yaml'));
    const copy = readFileSync(resolve(FILES, 'alerts.yaml'));
    expect(copy.equals(source), `helm/vault-multicast/files/alerts.yaml differs: ${FIX}`).toBe(true);
  });

  it('holds exactly the dashboards of dashboards/*.json, byte for byte', () => {
    const sources = jsonFiles(resolve(ROOT, 'dashboards'));
    expect(sources.length).toBeGreaterThan(0);
    expect(jsonFiles(resolve(FILES, 'dashboards')), `dashboard set differs: ${FIX}`).toEqual(sources);
    for (const name of sources) {
      const source = readFileSync(resolve(ROOT, 'dashboards', name));
      const copy = readFileSync(resolve(FILES, 'dashboards', name));
      expect(copy.equals(source), `helm/vault-multicast/files/dashboards/${name} differs: ${FIX}`).toBe(true);
    }
  });

  it('agrees with the sync script, which reports nothing to do', async () => {
    const { stdout, stderr } = await promisify(execFile)('bash', ['scripts/sync-chart-files.sh', '--check'], {
      cwd: ROOT,
    });
    expect(stdout + stderr).toBe('');
  });
});
