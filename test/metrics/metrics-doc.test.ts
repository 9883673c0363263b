/**
 * docs/metrics.md must list exactly what the exporters send. When this fails after a change to names.ts or
 * drop-reasons.ts, regenerate the tables with `npm run docs:metrics` (and adjust the prose if needed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics/names.js';
import { regenerate } from './metrics-doc.js';

const DOC = new URL('../../docs/metrics.md', import.meta.url);

describe('docs/metrics.md', () => {
  it('holds the generated tables as the code defines them today', () => {
    const doc = readFileSync(DOC, 'utf8');
    const fresh = regenerate(doc);
    if (process.env.VM_UPDATE_DOCS === '1' && fresh !== doc) writeFileSync(DOC, fresh);
    else expect(doc, 'docs/metrics.md is out of date: run `npm run docs:metrics`').toBe(fresh);
  });

  it('names every metric, with its labels, somewhere in the document', () => {
    const doc = readFileSync(DOC, 'utf8');
    for (const def of Object.values(METRICS)) {
      expect(doc).toContain(`\`${def.name}\``);
      for (const label of def.labels) expect(doc).toContain(`\`${label}\``);
    }
  });
});
