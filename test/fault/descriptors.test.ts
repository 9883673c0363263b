/**
 * File descriptors under attack from the HTTP port. A socket that got an error answer is closed by the agent
 * (before: half-closed, so 1,500 clients holding theirs held 1,500 descriptors), and an agent that runs out of
 * descriptors anyway keeps running: the reconcile timer's EMFILE (before: an uncaught exception, exit 1) is
 * logged, counted and retried. The descriptor limit is lowered on the spawned agent with prlimit, so a few
 * dozen connections stand for the 1,500 of the report.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

const run = promisify(execFile);
const running: SpawnedAgent[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const a of running.splice(0)) await a.stop('SIGKILL', 2_000).catch(() => undefined);
});

const fdCount = async (pid: number) => (await readdir(`/proc/${pid}/fd`)).length;

function config(port: number, http: Record<string, unknown> = {}): Record<string, unknown> {
  return { http, listeners: [{ name: 'l', group: '239.70.1.1', port, interfaces: ['127.0.0.1'] }] };
}

/** A client that sends `request` and keeps its end open whatever the server does (as the attacker did). */
function holdOpen(url: string, request: string): Promise<{ socket: Socket; answer: Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true }, () => {
      socket.write(request);
      let text = '';
      const answer = new Promise<string>((done) => {
        socket.on('data', (d) => {
          text += d;
          done(text);
        });
        socket.on('end', () => done(text));
        socket.on('close', () => done(text));
      });
      resolve({ socket, answer });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    sockets.push(socket);
  });
}

describe.skipIf(!IN_TEST_NETNS)('file descriptors under attack', () => {
  it('closes every socket it answered 400, so clients that hold theirs hold no agent descriptor', async () => {
    const agent = await spawnAgent(config(await freeUdpPort()));
    running.push(agent);
    const before = await fdCount(agent.pid);
    const clients = 300;
    const held = [];
    for (let i = 0; i < clients; i++) held.push(await holdOpen(agent.url, 'BROKEN\r\n\r\n'));
    const answers = await Promise.all(held.map((h) => h.answer));
    expect(answers.every((a) => a.startsWith('HTTP/1.1 400'))).toBe(true);
    // Before the fix the count stayed at before + 300 for as long as the clients kept their sockets.
    await waitFor(
      async () => (await fdCount(agent.pid)) < before + 10,
      'agent descriptors back down',
      10_000,
    );
    const metrics = await agent.fetch('/metrics');
    expect(metrics.body).toMatch(/vault_multicast_http_rejected_total\{reason="bad_request"\} 300\b/);
  }, 60_000);

  it('keeps running when its descriptors run out, and counts the EMFILE its timers met', async () => {
    const agent = await spawnAgent(config(await freeUdpPort(), { maxConnections: 64 }));
    running.push(agent);
    // A handful of descriptors above what it holds once the readiness probe's keep-alive connection is gone
    // (5 s): the held connections below take the rest.
    await new Promise((r) => setTimeout(r, 5_500));
    const limit = (await fdCount(agent.pid)) + 4;
    await run('prlimit', ['--pid', String(agent.pid), `--nofile=${limit}:${limit}`]);
    // Slowloris-style: a request line and no end of headers, for longer than one reconcile interval (5 s).
    for (let i = 0; i < 12; i++)
      await holdOpen(agent.url, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 6_500));
    expect(agent.child.exitCode, agent.logs()).toBeNull();
    for (const s of sockets.splice(0)) s.destroy();
    await waitFor(
      async () => (await agent.fetch('/metrics').catch(() => undefined))?.status === 200,
      'the agent to answer again',
      20_000,
    );
    const body = (await agent.fetch('/metrics')).body;
    expect(body).toMatch(/vault_multicast_receive_errors_total\{[^}]*reason="EMFILE"\} [1-9]/);
    expect(agent.logs()).not.toContain('uncaught exception');
    expect((await agent.fetch('/-/ready')).status).toBe(200);
  }, 60_000);
});
