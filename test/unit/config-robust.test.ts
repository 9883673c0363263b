// biome-ignore-all lint/suspicious/noTemplateCurlyInString: fragments hold ${VAR} references literally.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/agent/config/errors.js';
import { parseConfig } from '../../src/agent/config/load.js';

const LINE = /^r\.yaml(:\d+:\d+)?: .+$/;

async function outcome(text: string): Promise<'ok' | ConfigError> {
  try {
    await parseConfig(text, 'r.yaml', { A: '1' });
    return 'ok';
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

describe('configuration robustness', () => {
  it('reads an empty section as all defaults', async () => {
    const config = await parseConfig(
      'http:\nlog:\nsecurity:\nlisteners:\n  - {group: 224.1.1.1, port: 1}\n',
      'n.yaml',
      {},
    );
    expect(config.http.listen).toBe('127.0.0.1:9477');
    expect(config.log.level).toBe('info');
  });

  it('suggests the right key at the top level and inside sections', async () => {
    await expect(parseConfig('listner:\n  - {group: 224.1.1.1, port: 1}\n', 'n.yaml', {})).rejects.toThrow(
      'n.yaml:1:1: listner: unknown key (did you mean listeners?)\nn.yaml:1:1: nothing to run',
    );
  });

  it('keeps a report on one line whatever the key', async () => {
    const err = await outcome('listeners: [{group: 224.1.1.1, port: 1, "x\\ny": 2}]');
    expect((err as ConfigError).message).toBe(
      'r.yaml:1:41: listeners[0]["x\\ny"]: unknown key (known keys: name, group, port, interfaces, maxDatagramBytes, receiveBufferBytes, receiveQueueDatagrams, serviceTimeout, retention, maxServices, maxRegistryBytes, typeFilter, extensions)',
    );
  });

  it('refuses an alias bomb instead of expanding it', async () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    const err = await outcome(bomb);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^r\.yaml:1:1: YAML: .*alias/i);
  });

  it('answers any text with a config or a ConfigError whose lines all have the file:line:col form', async () => {
    const fragments = fc.constantFrom(
      'listeners:',
      'publishers:',
      '  - group: 224.1.1.1',
      '  - {group: ff02::1, port: 1}',
      '    port: 5004',
      '    port: -1',
      '    interfaces: [lo, lo]',
      '    interface: all',
      '    message: {a: [1, {b: 2}]}',
      '    message: ${A}',
      '    name: ${MISSING}',
      '    interval: 1h',
      'http: {listen: "[::1]:9477", enableAdmin: true}',
      'security: {signing: {mode: required}}',
      'security:',
      '  allowSources: [::/0, 0.0.0.0/0, 1.2.3.4]',
      '&x [1, *x]',
      '? [a, b]',
      ': :',
      '- - -',
      '"unterminated',
      '\t',
      '!!binary aGVsbG8=',
      '!custom x',
      '---',
      '...',
      '%YAML 1.2',
      '"a\\nb.c": 1',
      'listeners: [{group: 224.1.1.1, port: 1, "x\\ny": 2}]',
      'publishers: [{group: 224.1.1.1, port: 1, message: {"k\\n": [1]}}]',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fragments, fc.string({ maxLength: 12 })), { maxLength: 12 }),
        async (lines) => {
          const result = await outcome(lines.join('\n'));
          if (result === 'ok') return;
          expect(result.problems.length).toBeGreaterThan(0);
          for (const line of result.message.split('\n')) expect(line).toMatch(LINE);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
