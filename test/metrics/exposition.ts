/**
 * Test helpers for the text exposition format: a strict parser (labels unescaped, so tests compare the
 * values a Prometheus server would store) and `promtool check metrics`, the reference validator.
 */
import { spawnSync } from 'node:child_process';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  line: string;
}

export interface Exposition {
  samples: ParsedSample[];
  /** Metric family name → TYPE. */
  types: Map<string, string>;
  helps: Map<string, string>;
}

function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = Object.create(null);
  let i = 0;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0 || text[eq + 1] !== '"') throw new Error(`bad labels in: ${line}`);
    const key = text.slice(i, eq);
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key)) throw new Error(`bad label name ${key} in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const ch = text[j];
      if (ch === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
        j += 2;
        continue;
      }
      value += ch;
      j++;
    }
    if (key in labels) throw new Error(`duplicate label ${key} in: ${line}`);
    labels[key] = value;
    i = j + 1;
    if (text[i] === ',') i++;
  }
}

function parseValue(text: string): number {
  // Prometheus parses these case-insensitively (prom-client writes "Nan").
  if (/^\+?inf$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new Error(`bad value ${text}`);
  return v;
}

export function parseExposition(body: string): Exposition {
  const samples: ParsedSample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const line of body.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [name = '', ...help] = line.slice(7).split(' ');
      if (helps.has(name)) throw new Error(`second HELP for ${name}`);
      helps.set(name, help.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      if (types.has(name)) throw new Error(`second TYPE for ${name}`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/s.exec(line);
    if (!m) throw new Error(`bad line: ${line}`);
    const name = m[1] ?? '';
    let rest = m[2] ?? '';
    let labels: Record<string, string> = Object.create(null);
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), line));
    const [value = '', timestamp] = rest.trim().split(' ');
    if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) throw new Error(`bad timestamp: ${line}`);
    samples.push({ name, labels, value: parseValue(value), line });
  }
  return { samples, types, helps };
}

/** name{sorted labels}: equal for the same series however the labels were ordered. */
export function seriesKey(s: { name: string; labels: Record<string, string> }): string {
  const keys = Object.keys(s.labels).sort();
  return `${s.name}${JSON.stringify(keys.map((k) => [k, s.labels[k]]))}`;
}

export function duplicateSeries(exp: Exposition): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const s of exp.samples) {
    const key = seriesKey(s);
    if (seen.has(key)) dups.push(s.line);
    seen.add(key);
  }
  return dups;
}

export function find(exp: Exposition, name: string, labels: Record<string, string> = {}): ParsedSample[] {
  return exp.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

export const PROMTOOL = '/usr/bin/promtool';

export function promtoolCheck(body: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
