/**
 * The lint step's layering check (scripts/import-graph.mjs): the real tree passes, and a tree that breaks a
 * rule fails with the offending import named, so the check can fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/import-graph.mjs', import.meta.url));
const made: string[] = [];

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vm-graph-'));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function run(src?: string) {
  const args = [script, '--quiet', ...(src ? ['--src', src] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout };
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('import graph check', () => {
  it('passes on src/', () => {
    const r = run();
    expect(r.out).toContain('cycles: 0');
    expect(r.status).toBe(0);
  });

  it('fails on an upward import and names it', () => {
    const r = run(
      tree({
        'discovery/listener.ts': "import { Agent } from '../agent/agent.js';\n",
        'agent/agent.ts': 'export class Agent {}\n',
      }),
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain('discovery/listener.ts -> agent/agent.ts');
  });

  it('fails on a cycle, type-only edges included', () => {
    const r = run(
      tree({
        'agent/agent.ts': "import { start } from './http/server.js';\nexport class Agent {}\n",
        'agent/http/server.ts': "import type { Agent } from '../agent.js';\nexport function start() {}\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain('agent/agent.ts <-> agent/http/server.ts');
  });

  it("fails when the library loads a package; OpenTelemetry's API as a type is allowed", () => {
    const r = run(
      tree({
        'discovery/a.ts':
          "import type { Meter } from '@opentelemetry/api';\nimport express from 'express';\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain('discovery/a.ts -> package express');
    expect(r.out).not.toContain('@opentelemetry/api');
  });
});
