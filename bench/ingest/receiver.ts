/**
 * A Node receiver for the ingest benchmark, run inside the benchmark's namespace:
 *   listener — the library's full pipeline (VaultMultiListener: counters, decode, validation, registry);
 *   bare     — a dgram socket bound and joined the same way that only counts datagrams.
 * stdin commands: `count` prints {"count": n, ...}; `quit` exits. Usage: receiver.js listener|bare GROUP PORT RCVBUF
 */
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { VaultMultiListener } from '../../src/index.js';

const [mode, group = '239.255.0.1', portText = '5004', rcvbufText = '4194304'] = process.argv.slice(2);
const port = Number(portText);
const rcvbuf = Number(rcvbufText);
const out = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

let count: () => Record<string, unknown>;
if (mode === 'listener') {
  const listener = new VaultMultiListener({
    group,
    port,
    interfaces: '127.0.0.1',
    receiveBufferSize: rcvbuf,
    // Bench runs last seconds; keep the reconcile pass out of the measurement window's way.
    reconcileInterval: 60_000,
    // VM_BENCH_RECEIVE_QUEUE=0 measures the listener without its receive queue.
    ...(process.env.VM_BENCH_RECEIVE_QUEUE
      ? { receiveQueue: { maxDatagrams: Number(process.env.VM_BENCH_RECEIVE_QUEUE) } }
      : {}),
  });
  await listener.start();
  count = () => ({
    count: listener.stats.packetsReceived,
    cpu_us: cpuMicros(),
    accepted: listener.stats.accepted,
    services: listener.registry.size,
  });
  out({ ready: true, pid: process.pid, rcvbuf: listener.receiveBufferBytes });
} else if (mode === 'bare') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  let n = 0;
  socket.on('message', () => {
    n++;
  });
  await new Promise<void>((resolve) => socket.bind(port, group, resolve));
  socket.setRecvBufferSize(rcvbuf);
  socket.addMembership(group, '127.0.0.1');
  count = () => ({ count: n, cpu_us: cpuMicros() });
  out({ ready: true, pid: process.pid, rcvbuf: socket.getRecvBufferSize() });
} else {
  process.stderr.write('usage: receiver.js listener|bare GROUP PORT RCVBUF\n');
  process.exit(2);
}

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === 'count') out(count());
  else if (cmd === 'quit') break;
}
process.exit(0);
