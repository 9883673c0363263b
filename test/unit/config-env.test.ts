// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${VAR} written literally.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/agent/config/duration.js';
import { expandString } from '../../src/agent/config/env.js';
import { parseConfig } from '../../src/agent/config/load.js';

describe('expandString', () => {
  it('expands, defaults and escapes', () => {
    const env = { A: 'x', EMPTY: '' };
    expect(expandString('${A}${A}', env)).toEqual({ value: 'xx' });
    expect(expandString('${EMPTY}', env)).toEqual({ value: '' });
    expect(expandString('${EMPTY:-d}', env)).toEqual({ value: 'd' });
    expect(expandString('${B:-a:-b}', env)).toEqual({ value: 'a:-b' });
    expect(expandString('$${A} $$ $A', env)).toEqual({ value: '${A} $$ $A' });
  });

  it('rejects unset variables, bad names and unclosed references', () => {
    expect(expandString('${B}', {})).toEqual({
      error: 'environment variable B is not set (give a default with ${B:-value})',
    });
    expect(expandString('${A B}', {})).toEqual({
      error:
        'invalid variable reference "${A B}": write ${NAME} or ${NAME:-default} (or $${ for a literal "${")',
    });
    expect(expandString('x ${A', {})).toEqual({
      error: 'unclosed "${": write ${NAME} or ${NAME:-default} (or $${ for a literal "${")',
    });
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['5m', 300000],
    ['1h', 3600000],
    ['1d', 86400000],
    ['1m30s', 90000],
    ['1.5s', 1500],
    ['0s', 0],
    ['2', 2000],
    [2, 2000],
    [0.25, 250],
  ] as const)('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ms });
  });

  it.each(['', '2 s', 's', '2x', '-1s', '1s2', 'PT2S'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toHaveProperty('error');
  });

  it('rejects negative numbers and non-scalars', () => {
    expect(parseDuration(-1)).toEqual({ error: 'invalid duration -1: must be 0 or more' });
    expect(parseDuration([1])).toHaveProperty('error');
  });
});

describe('environment expansion', () => {
  const base = (value: string) =>
    `listeners:\n  - group: 224.1.1.1\n    port: 5004\n    typeFilter: ${value}\n`;
  const filterOf = async (value: string, env: Record<string, string>) =>
    (await parseConfig(base(value), 'env.yaml', env)).listeners[0]?.typeFilter;

  it('replaces ${VAR} and falls back to ${VAR:-default} when unset or empty', async () => {
    expect(await filterOf('${KIND}', { KIND: 'Db' })).toBe('Db');
    expect(await filterOf('pre-${KIND}-post', { KIND: 'Db' })).toBe('pre-Db-post');
    expect(await filterOf('${KIND:-Cache}', {})).toBe('Cache');
    expect(await filterOf('${KIND:-Cache}', { KIND: '' })).toBe('Cache');
    expect(await filterOf('${KIND:-}', {})).toBe('');
  });

  it('writes a literal ${ for $${', async () => {
    expect(await filterOf('"$${KIND}"', { KIND: 'Db' })).toBe('${KIND}');
  });

  it('gives an unquoted number its type, and keeps a quoted one a string', async () => {
    const text =
      'listeners:\n  - group: ${GROUP}\n    port: ${PORT:-5004}\n    typeFilter: "${PORT:-5004}"\n';
    const config = await parseConfig(text, 'env.yaml', { GROUP: '239.1.2.3' });
    expect(config.listeners[0]).toMatchObject({ group: '239.1.2.3', port: 5004, typeFilter: '5004' });
  });

  it('never turns a value into structure', async () => {
    const config = await parseConfig(base('${KIND}'), 'env.yaml', { KIND: '{a: 1}\nport: 1' });
    expect(config.listeners[0]?.typeFilter).toBe('{a: 1}\nport: 1');
  });

  it('expands values, not keys', async () => {
    const text = 'publishers:\n  - {group: 224.1.1.1, port: 1, message: {"${K}": "${V}"}}\n';
    const config = await parseConfig(text, 'k.yaml', { K: 'key', V: 'value' });
    expect(config.publishers[0]?.message).toEqual({ '${K}': 'value' });
  });

  it('reports every missing variable', async () => {
    const text = 'listeners:\n  - group: ${G}\n    port: ${P}\n';
    await expect(parseConfig(text, 'e.yaml', {})).rejects.toThrow(
      'e.yaml:2:12: listeners[0].group: environment variable G is not set (give a default with ${G:-value})\n' +
        'e.yaml:3:11: listeners[0].port: environment variable P is not set (give a default with ${P:-value})',
    );
  });
});
