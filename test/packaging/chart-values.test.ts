/**
 * values.yaml is the chart's manual: every value carries a comment of its own, except inside blocks handed to
 * Kubernetes or the agent whole (securityContext, config...), where the block's comment covers them. And each value the schema knows is in values.yaml, so the file shows
 * everything an operator can set.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, type Pair, parseDocument, type YAMLMap } from 'yaml';

const CHART = resolve(import.meta.dirname, '../../helm/vault-multicast');
const doc = parseDocument(readFileSync(resolve(CHART, 'values.yaml'), 'utf8'));
const schema = JSON.parse(readFileSync(resolve(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/** The comment written above a pair: yaml puts the first one of a map on the map itself. */
function hasComment(map: YAMLMap, index: number): boolean {
  const pair = map.items[index];
  if (!pair) return false;
  const key = pair.key as { commentBefore?: string | null; comment?: string | null } | null;
  if (key?.commentBefore || key?.comment) return true;
  return index === 0 && Boolean(map.commentBefore);
}

/**
 * Blocks passed through to Kubernetes or the agent as a whole, documented by the comment on the block (the
 * agent's keys in docs/configuration.md, the Kubernetes fields in its API reference).
 */
const FREE_FORM = new Set(['config', 'podSecurityContext', 'securityContext', 'resources', 'nodeSelector']);

/** Dotted paths of values without a comment of their own, descending into every block but the free-form. */
function undocumented(map: YAMLMap, prefix: string): string[] {
  const out: string[] = [];
  map.items.forEach((pair, i) => {
    if (!isPair(pair)) return;
    const path = `${prefix}${keyOf(pair)}`;
    const commented = hasComment(map, i);
    if (isMap(pair.value) && pair.value.items.length > 0) {
      if (FREE_FORM.has(path) && commented) return;
      out.push(...undocumented(pair.value, `${path}.`));
    } else if (!commented) out.push(path);
  });
  return out;
}

describe('Chart.yaml', () => {
  it('deploys the version of the package it ships with', () => {
    const chart = parseDocument(readFileSync(resolve(CHART, 'Chart.yaml'), 'utf8')).toJS() as {
      appVersion: string;
    };
    const pkg = JSON.parse(readFileSync(resolve(CHART, '../../package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });
});

describe('values.yaml', () => {
  it('comments every value', () => {
    if (!isMap(doc.contents)) throw new Error('values.yaml is not a mapping');
    expect(undocumented(doc.contents, '')).toEqual([]);
  });

  it('finds an uncommented value (the check is live)', () => {
    const bare = parseDocument('# images\nimage:\n  # -- the repository\n  repository: x\n  tag: ""\n');
    if (!isMap(bare.contents)) throw new Error('not a mapping');
    expect(undocumented(bare.contents, '')).toEqual(['image.tag']);
  });

  it('sets every value the schema declares', () => {
    const values = doc.toJS() as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (node: SchemaNode, value: unknown, path: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        // `global` is Helm's, for parent charts; `config` is the agent's own file, documented in
        // docs/configuration.md, of which values.yaml shows the common part.
        if (path === '' && (key === 'global' || key === 'config')) continue;
        const v = (value as Record<string, unknown> | undefined)?.[key];
        if (v === undefined) missing.push(`${path}${key}`);
        else walk(child, v, `${path}${key}.`);
      }
    };
    walk(schema, values, '');
    expect(missing).toEqual([]);
  });
});
