/**
 * A browser tab that stops reading must not make the agent buffer without bound: the event stream cuts a
 * client off once 1 MiB is queued for it, while a client that reads keeps its stream. Runs in a namespace
 * host whose TCP send buffers are capped at 64 KiB, and the stalled client asks for a 4 KiB receive buffer,
 * so the queue builds up in the agent rather than in the kernel.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLoopbackHost, NETNS_AVAILABLE, sh, waitFor } from '../harness/netns.js';
import { nodeArgs, RAW_CLIENT, SENDER } from './node-scripts.js';
import { type SpawnedAgent, spawnAgent } from './spawn-agent.js';

/** Node cannot size a TCP receive buffer; Python can. Connects, asks for events, never reads. */
const STALLED_CLIENT = `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'GET /api/v1/events HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n')
print('connected', flush=True)
time.sleep(120)
`;

describe.skipIf(!NETNS_AVAILABLE)('event stream and slow clients', () => {
  let host: Awaited<ReturnType<typeof createLoopbackHost>>;
  let agent: SpawnedAgent;
  const group = '224.1.1.71';
  const port = 5004;

  beforeAll(async () => {
    host = await createLoopbackHost();
    await sh('ip', ['netns', 'exec', host.ns, 'sysctl', '-q', '-w', 'net.ipv4.tcp_wmem=4096 16384 65536']);
    agent = await spawnAgent(
      { listeners: [{ name: 'l', group, port, interfaces: ['127.0.0.1'], maxServices: 20_000 }] },
      { host },
    );
  }, 60_000);

  afterAll(async () => {
    agent?.kill();
    await host?.destroy();
  });

  test('a client that does not read is disconnected; a reading one is not, until shutdown ends it', async () => {
    const httpPort = Number(new URL(agent.url).port);
    const request = 'GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const outputs = { slow: '', reader: '' };
    const slow = host.spawn('python3', ['-c', STALLED_CLIENT, String(httpPort)]);
    const reader = host.spawn(process.execPath, nodeArgs(RAW_CLIENT, [httpPort, request, false]));
    slow.stdout?.on('data', (d) => {
      outputs.slow += d;
    });
    reader.stdout?.on('data', (d) => {
      outputs.reader += d;
    });
    try {
      await waitFor(
        () => outputs.slow.includes('connected') && outputs.reader.includes('bytes'),
        'clients',
        10_000,
      );
      // 5,000 new services: about 3 MB of `service` events for each client, paced (about 1 MB/s) so that a
      // reading client keeps up even on a loaded machine.
      const sent = await host.run(process.execPath, nodeArgs(SENDER, [group, port, 5000, 'Flood', true, 5]), {
        timeoutMs: 30_000,
      });
      expect(sent.code, sent.stderr).toBe(0);
      await waitFor(
        () => agent.logs().includes('event stream client too slow; disconnected'),
        'slow client cut off',
        20_000,
      );
      const readBytes = () => Number([...outputs.reader.matchAll(/bytes (\d+)\n/g)].at(-1)?.[1] ?? 0);
      await waitFor(() => readBytes() > 2_000_000, 'reader receives the events', 20_000);
      expect(outputs.reader).not.toContain('closed');
      expect((await agent.fetch('/-/ready')).status).toBe(200);
      // Shutdown ends open event streams instead of waiting for the browser to leave.
      expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      await waitFor(() => outputs.reader.includes('closed'), 'stream ended by shutdown', 5000);
    } finally {
      slow.kill('SIGKILL');
      reader.kill('SIGKILL');
    }
  });
});
