/**
 * The agent keeps running when a listener cannot start: the failure is logged and counted, readiness says
 * which listener is missing, and the listener comes up by itself once the port is free.
 */
import dgram from 'node:dgram';
import { afterAll, describe, expect, test } from 'vitest';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent } from './in-process.js';

describe.skipIf(!IN_TEST_NETNS)('listener start failures', () => {
  let t: TestAgent | undefined;
  afterAll(async () => t?.close());

  test('EADDRINUSE: reported, counted, retried until the port frees up', async () => {
    const port = await freeUdpPort();
    const group = '224.1.1.51';
    // A socket without SO_REUSEADDR on the same address makes the listener's bind fail.
    const squatter = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => squatter.bind(port, group, () => r()));
    let closed = false;
    try {
      t = await startTestAgent(`
http: {listen: "@HTTP@"}
listeners:
  - {name: blocked, group: ${group}, port: ${port}, interfaces: [127.0.0.1]}
  - {name: free, group: 224.1.1.52, port: ${port}, interfaces: [127.0.0.1]}
`);
      const ready = await fetch(`${t.url}/-/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false, reason: 'listener blocked is not bound' });
      expect((await fetch(`${t.url}/-/healthy`)).status).toBe(200);
      expect(t.agent.listenerEntry('free')?.listener.isRunning()).toBe(true);
      const failure = t.logs.find((l) => l.includes('listener could not start'));
      expect(failure).toBeDefined();
      expect(JSON.parse(failure ?? '{}')).toMatchObject({
        level: 'error',
        listener: 'blocked',
        code: 'EADDRINUSE',
      });
      expect(t.agent.listenerEntry('blocked')?.listener.stats.socketErrors.EADDRINUSE).toBeGreaterThanOrEqual(
        1,
      );
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(
        /^vault_multicast_receive_errors_total\{listener="blocked",[^}]*reason="EADDRINUSE"\} [1-9]/m,
      );

      await new Promise<void>((r) => squatter.close(() => r()));
      closed = true;
      await waitFor(
        () => t?.agent.listenerEntry('blocked')?.listener.isRunning() === true,
        'retry binds',
        10_000,
      );
      await waitFor(async () => (await fetch(`${t?.url}/-/ready`)).status === 200, 'ready', 5000);
    } finally {
      if (!closed) squatter.close();
    }
  });

  test('readiness is 503 with a reason while stopping, and stop is idempotent', async () => {
    if (!t) throw new Error('previous test did not start the agent');
    const stopping = t.agent.stop();
    expect(t.agent.readiness()).toEqual({ ready: false, reason: 'agent is stopping' });
    await Promise.all([stopping, t.agent.stop()]);
    expect(t.agent.phase).toBe('stopped');
    expect([...t.agent.listeners()]).toEqual([]);
  });
});

describe.skipIf(!IN_TEST_NETNS)('start-up failure', () => {
  test('an HTTP address in use fails start() and leaves no socket open', async () => {
    const { createServer } = await import('node:net');
    const { Agent } = await import('../../src/agent/agent.js');
    const { parseConfig } = await import('../../src/agent/config/load.js');
    const { createLogger } = await import('../../src/agent/logger.js');
    const { freeTcpPort } = await import('../harness/netns.js');
    const { udpSocketInodes } = await import('./in-process.js');
    const tcp = await freeTcpPort();
    const udp = await freeUdpPort();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(tcp, '127.0.0.1', () => r()));
    try {
      const cfg = await parseConfig(
        `http: {listen: "127.0.0.1:${tcp}"}\nlisteners: [{group: 224.1.1.53, port: ${udp}, interfaces: [127.0.0.1]}]\n`,
        'inline.yaml',
        {},
      );
      const agent = new Agent({
        logger: createLogger({ level: 'error', destination: { write: () => undefined } }),
      });
      await expect(agent.start(cfg)).rejects.toThrow(/EADDRINUSE/);
      await agent.stop();
      expect(await udpSocketInodes('224.1.1.53', udp)).toEqual([]);
      expect(agent.phase).toBe('stopped');
    } finally {
      squatter.close();
    }
  });
});

describe.skipIf(!IN_TEST_NETNS)('missing interface', () => {
  test('a listener that cannot join anywhere keeps the agent unready, with the reason', async () => {
    const { startTestAgent } = await import('./in-process.js');
    const port = await freeUdpPort();
    const t = await startTestAgent(`
http: {listen: "@HTTP@"}
listeners: [{name: nowhere, group: 224.1.1.54, port: ${port}, interfaces: [vmnosuch0]}]
`);
    try {
      const r = await fetch(`${t.url}/-/ready`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({
        ready: false,
        reason: 'no group membership joined and no publisher running',
      });
      const status = (await (await fetch(`${t.url}/api/v1/status`)).json()) as {
        listeners: { memberships: { interface: string; joined: boolean; error: string | null }[] }[];
      };
      expect(status.listeners[0]?.memberships).toEqual([
        expect.objectContaining({ interface: 'vmnosuch0', joined: false, error: expect.any(String) }),
      ]);
      expect((await fetch(`${t.url}/-/healthy`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
