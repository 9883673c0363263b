/**
 * `vault-multicast publish`: announce one message on a group, like the original's publisher, until
 * interrupted or `--count` announcements have been sent; stopping sends a goodbye.
 */
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import {
  DEFAULT_MESSAGE,
  DEFAULT_MULTICAST_GROUP,
  DEFAULT_PORT,
  DEFAULT_TIMEOUT,
  DEFAULT_TTL,
} from '../discovery/constants.js';
import { familyOfGroup, resolveInterfaces } from '../discovery/net/interfaces.js';
import { VaultMultiPublisher } from '../discovery/publisher.js';
import {
  asUsage,
  ENDPOINT_OPTIONS,
  ENDPOINT_USAGE,
  EXIT_FAILURE,
  EXIT_OK,
  interfaceOption,
  numberOption,
  UsageError,
} from './args.js';

export const PUBLISH_USAGE = `usage: vault-multicast publish [options]

${ENDPOINT_USAGE}  --ttl N              multicast TTL / hop limit (default ${DEFAULT_TTL})
  --interval S         seconds between announcements, jittered ±10 % (default ${DEFAULT_TIMEOUT})
  --message JSON       the announcement, e.g. '{"type":"vault","name":"n1","addr":"192.0.2.10:8200"}'
                       (default '${DEFAULT_MESSAGE}', sent as is). A message that starts with '{' must be
                       a JSON object with type and addr (or ip/port), or listeners would drop it
  --raw                send --message as is, unchecked
  --count N            stop after N announcements (default: run until SIGINT/SIGTERM)
  --announce-ttl S     seconds listeners keep the service without a new announcement (the ttl extension)
  --no-goodbye         do not send a goodbye when stopping
  --no-loopback        do not deliver the announcements to listeners on this host
  --quiet              print nothing per announcement
`;

export async function runPublish(argv: string[]): Promise<number> {
  const { values: v } = asUsage(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...ENDPOINT_OPTIONS,
        ttl: { type: 'string' },
        interval: { type: 'string' },
        message: { type: 'string' },
        count: { type: 'string' },
        'announce-ttl': { type: 'string' },
        'no-goodbye': { type: 'boolean' },
        'no-loopback': { type: 'boolean' },
        quiet: { type: 'boolean' },
        raw: { type: 'boolean' },
      },
    }),
  );
  const count = numberOption(v.count, 'count', undefined, { integer: true, min: 1 });
  const publisher = new VaultMultiPublisher({
    group: v.group ?? DEFAULT_MULTICAST_GROUP,
    port: numberOption(v.port, 'port', DEFAULT_PORT, { integer: true, min: 1, max: 65535 }),
    interfaces: interfaceOption(v.interface),
    ttl: numberOption(v.ttl, 'ttl', DEFAULT_TTL, { integer: true, min: 0, max: 255 }),
    interval: numberOption(v.interval, 'interval', DEFAULT_TIMEOUT, { min: 0.01 }),
    message: v.raw ? v.message : parseMessage(v.message),
    announceTtl: numberOption(v['announce-ttl'], 'announce-ttl', undefined, { min: 0.001 }),
    goodbye: !v['no-goodbye'],
    loopback: !v['no-loopback'],
  });
  const out = process.stdout;
  publisher.on('socketError', (p) => process.stderr.write(`error: ${p.message}\n`));
  publisher.on('warning', (m) => process.stderr.write(`warning: ${m}\n`));

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  publisher.on('announced', (seq, sent) => {
    if (!v.quiet) out.write(`announced seq=${seq} on ${sent} interface${sent === 1 ? '' : 's'}\n`);
    if (count !== undefined && seq + 1 >= count) finish(EXIT_OK);
  });
  const onSignal = (): void => finish(EXIT_OK);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unusable = noInterface(publisher.interfaces, publisher.group);
  if (unusable !== undefined) {
    process.stderr.write(`error: ${unusable}\n`);
    return EXIT_FAILURE;
  }
  try {
    await publisher.start();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }

  const code = await finished;
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  await publisher.stop();
  const sent = publisher.stats.packetsSent;
  const failed = Object.values(publisher.stats.sendErrors).reduce((a, b) => a + b, 0);
  if (!v.quiet) out.write(`stopped: ${sent} datagrams sent, ${failed} failed\n`);
  return sent === 0 && failed > 0 ? EXIT_FAILURE : code;
}

/** Why none of the asked-for interfaces can send now (undefined when one can, or when the kernel chooses). */
function noInterface(spec: 'all' | string[], group: string): string | undefined {
  const family = familyOfGroup(group);
  if (family === undefined || (spec !== 'all' && spec.length === 0)) return undefined;
  const targets = resolveInterfaces(spec, family);
  if (targets.some((t) => t.error === undefined)) return undefined;
  const asked =
    targets.length > 0 ? targets.map((t) => `'${t.spec}' (${t.error})`).join(', ') : "'all' (none is up)";
  return `no interface to send on: ${asked}; this host has ${Object.keys(networkInterfaces()).join(', ')}`;
}

/**
 * A JSON object, or any text that does not look like one (sent as is, like the original's default message).
 * Text that starts with '{' is meant as an announcement, so it must be one listeners accept: a JSON object
 * with a type and an address (addr, or ip/port); anything less is refused rather than sent to be dropped.
 */
function parseMessage(text: string | undefined): string | Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const looksJson = text.trimStart().startsWith('{');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (!looksJson) return text;
    throw new UsageError(
      `--message is not JSON (${(err as Error).message}); fix it, or add --raw to send it as is`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return text;
  const o = value as Record<string, unknown>;
  const missing = [
    o.type === undefined ? 'type' : undefined,
    o.addr === undefined && o.ip === undefined && o.port === undefined ? 'addr (or ip/port)' : undefined,
  ].filter((m) => m !== undefined);
  if (missing.length > 0)
    throw new UsageError(
      `--message lacks ${missing.join(' and ')}: listeners would drop it; add ${missing.length > 1 ? 'them' : 'it'}, or add --raw to send it as is`,
    );
  return o;
}
