/**
 * Small programs the agent tests run as separate processes inside a namespace host (`node -e`), using the
 * built library from dist/. Start one with `host.spawn(process.execPath, nodeArgs(SCRIPT, [...args]))`.
 */
import { join } from 'node:path';
import { REPO_ROOT } from './spawn-agent.js';

const LIB = join(REPO_ROOT, 'dist', 'src', 'index.js');

/** `node -e` arguments for one of the scripts below, with the built library's path filled in. */
export function nodeArgs(script: string, args: unknown[]): string[] {
  return ['--input-type=module', '-e', script.replaceAll('@LIB@', JSON.stringify(LIB)), JSON.stringify(args)];
}

/**
 * Sends `count` announcements of `type` to `group`:`port` through 127.0.0.1, then exits. With `distinct`
 * services every announcement is a new service (its own address); otherwise they cycle over three. With
 * `pauseMs`, it sleeps that long after every 10 datagrams.
 */
export const SENDER = `
import dgram from 'node:dgram';
const { encodeAnnouncement } = await import(@LIB@);
const [group, port, count, type, distinct, pauseMs] = JSON.parse(process.argv[1]);
const s = dgram.createSocket({ type: 'udp4' });
await new Promise((r) => s.bind(0, '127.0.0.1', r));
s.setMulticastInterface('127.0.0.1');
s.setMulticastLoopback(true);
for (let i = 0; i < count; i++) {
  const k = distinct ? i : i % 3;
  const bytes = encodeAnnouncement({ type, name: type + '-' + k, addr: '127.0.0.1:' + (7000 + k) }, { seq: i });
  await new Promise((res, rej) => s.send(bytes, port, group, (e) => (e ? rej(e) : res())));
  if (pauseMs && i % 10 === 9) await new Promise((r) => setTimeout(r, pauseMs));
}
s.close();
`;

/** A publisher that announces every 200 ms until killed. */
export const PUBLISHER = `
const { VaultMultiPublisher } = await import(@LIB@);
const [group, port, type] = JSON.parse(process.argv[1]);
const p = new VaultMultiPublisher({ group, port, interfaces: '127.0.0.1', interval: 0.2, jitter: 0,
  message: { type, name: type, addr: '127.0.0.1:7777' } });
await p.start();
process.stdout.write('started\\n');
`;

/** A listener that prints one line per service state change. */
export const WATCHER = `
const { VaultMultiListener } = await import(@LIB@);
const [group, port] = JSON.parse(process.argv[1]);
const l = new VaultMultiListener({ group, port, interfaces: '127.0.0.1' });
l.on('up', (r) => process.stdout.write('up ' + r.type + '\\n'));
l.on('down', (r, why) => process.stdout.write('down ' + r.type + ' ' + why + '\\n'));
await l.start();
process.stdout.write('ready\\n');
`;

/**
 * An HTTP client on 127.0.0.1:port that sends `request` (raw text) and then either reads everything
 * (printing the running byte count as 'bytes N' lines and 'closed' at the end) or, with `stall`, never reads.
 */
export const RAW_CLIENT = `
import net from 'node:net';
const [port, request, stall] = JSON.parse(process.argv[1]);
const c = net.connect(port, '127.0.0.1', () => {
  c.write(request);
  if (stall) c.pause();
  process.stdout.write('connected\\n');
});
let bytes = 0;
c.on('data', (d) => { bytes += d.length; process.stdout.write('bytes ' + bytes + '\\n'); });
c.on('end', () => process.stdout.write('closed\\n'));
c.on('close', () => process.stdout.write('closed\\n'));
c.on('error', () => {});
setInterval(() => {}, 1000);
`;
