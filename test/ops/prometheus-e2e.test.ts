/**
 * The shipped alert rules and dashboards against a real Prometheus scraping real agents. Three hosts on a LAN
 * (198.18.K.0/24, multicast on lan0) each run an agent that listens on the group and announces itself; two
 * CLI publisher processes come and go; Prometheus runs in the test's namespace and scrapes the agents over a separate
 * management link per host (198.19.K.0/30 pairs), so cutting a host's LAN cable cuts its multicast but not its
 * scrape, as on a real network with a management interface.
 *
 * The rules are the shipped file with every `for:` shortened, so the expressions under test are the shipped ones.
 * Set VM_E2E_CAPTURE=FILE to keep the Prometheus answers as text (docs/monitoring.md quotes them).
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, REPO_ROOT, type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { createLan, IN_TEST_NETNS, type Lan, NETNS_AVAILABLE, sh, waitFor } from '../harness/netns.js';
import { type DashboardJson, dashboardQueries, substitute } from './dashboard-queries.js';
import { type PromAlert, type PrometheusServer, startPrometheus } from './prometheus-server.js';

const GROUP = '224.1.1.77';
const PORT = 5077;
const JOB = 'vault-multicast';
const LIB = join(REPO_ROOT, 'dist', 'src', 'index.js');
const AGENT_PORT = 9477;
const FOR = '3s';

/**
 * A publisher of another make that stamps its announcements with the `timestamp` extension (the agent's own
 * publishers do not), so the service's announcement age (clock skew plus delay) has data.
 */
const STAMPING_PUBLISHER = `
import dgram from 'node:dgram';
const { encodeAnnouncement } = await import(process.env.VM_LIB);
const [group, port, iface, message] = JSON.parse(process.argv[1]);
const s = dgram.createSocket('udp4');
await new Promise((r) => s.bind(0, iface, r));
s.setMulticastInterface(iface);
s.setMulticastTTL(1);
for (let seq = 1; ; seq++) {
  const bytes = encodeAnnouncement(message, { seq, timestamp: Date.now() / 1000 });
  s.send(bytes, port, group, (e) => e && process.stderr.write(String(e) + '\\n'));
  await new Promise((r) => setTimeout(r, 500));
}
`;

/** Sends `count` datagrams that are not JSON to the group, then exits. */
const GARBAGE = `
import dgram from 'node:dgram';
const [group, port, iface, count] = JSON.parse(process.argv[1]);
const s = dgram.createSocket('udp4');
await new Promise((r) => s.bind(0, iface, r));
s.setMulticastInterface(iface);
s.setMulticastTTL(1);
for (let i = 0; i < count; i++) {
  await new Promise((res, rej) => s.send(Buffer.from('garbage #' + i + ' \\u0000{'), port, group, (e) => (e ? rej(e) : res())));
}
s.close();
`;

/** The shipped rules with every `for:` shortened to FOR; throws if the file's shape changed under us. */
async function rulesForTest(): Promise<string> {
  const text = await readFile(join(REPO_ROOT, 'config/prometheus/alerts.yaml'), 'utf8');
  const alerts = text.match(/^\s+- alert: /gm)?.length ?? 0;
  let rewritten = 0;
  const out = text.replace(/^(\s+for: )\S+$/gm, (_, lead: string) => {
    rewritten++;
    return `${lead}${FOR}`;
  });
  if (alerts === 0 || rewritten !== alerts) throw new Error(`rewrote ${rewritten} for: of ${alerts} alerts`);
  return out;
}

describe.skipIf(!NETNS_AVAILABLE || !IN_TEST_NETNS)('alerts and dashboards against a real Prometheus', () => {
  let lan: Lan;
  let prom: PrometheusServer;
  const agents: SpawnedAgent[] = [];
  const agentConfigs: Record<string, unknown>[] = [];
  const instances: string[] = [];
  const publishers = new Map<string, ChildProcess>();
  const transcript: string[] = [];
  let scenarioStart = 0;

  function note(title: string, body: unknown): void {
    transcript.push(`### ${title}\n${typeof body === 'string' ? body : JSON.stringify(body, null, 2)}\n`);
  }

  async function active(alertname: string, labels: Record<string, string> = {}): Promise<PromAlert[]> {
    return (await prom.alerts()).filter(
      (a) => a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
    );
  }

  async function waitFiring(
    alertname: string,
    labels: Record<string, string>,
    what: string,
  ): Promise<PromAlert[]> {
    let found: PromAlert[] = [];
    await waitFor(
      async () => {
        found = (await active(alertname, labels)).filter((a) => a.state === 'firing');
        return found.length > 0;
      },
      what,
      30_000,
    );
    return found;
  }

  function startPublisher(hostIndex: number, name: string, stamping = false): void {
    const host = lan.hosts[hostIndex];
    if (!host) throw new Error(`no host ${hostIndex}`);
    const message = { type: 'VaultLibrary', name, addr: `${host.ipv4}:8200`, version: '1.2.3' };
    if (stamping) {
      const args = [
        '--input-type=module',
        '-e',
        STAMPING_PUBLISHER,
        JSON.stringify([GROUP, PORT, host.ipv4, message]),
      ];
      publishers.set(name, host.spawn(process.execPath, args, { env: { ...process.env, VM_LIB: LIB } }));
      return;
    }
    // The CLI publisher, as an operator would run it; SIGKILL makes it vanish without a goodbye.
    const child = host.spawn(process.execPath, [
      CLI_MAIN,
      'publish',
      '--group',
      GROUP,
      '--port',
      String(PORT),
      '--interface',
      'lan0',
      '--ttl',
      '1',
      '--interval',
      '0.5',
      '--message',
      JSON.stringify(message),
      '--quiet',
    ]);
    publishers.set(name, child);
  }

  async function servicesSeen(agent: SpawnedAgent): Promise<Map<string, string>> {
    const res = await agent.fetch('/api/v1/services');
    const body = JSON.parse(res.body) as { services: { name: string; state: string }[] };
    return new Map(body.services.map((s) => [s.name, s.state]));
  }

  beforeAll(async () => {
    lan = await createLan({ hosts: 3 });
    const k = lan.prefix.split('.')[2];
    // A management link per host: Prometheus scrapes through it, so a cut LAN cable leaves the agent visible.
    for (const [i, host] of lan.hosts.entries()) {
      const mine = `198.19.${k}.${4 * i + 1}`;
      const theirs = `198.19.${k}.${4 * i + 2}`;
      const dev = `vmg${process.pid.toString(36)}${i}`.slice(0, 15);
      await sh('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', host.ns]);
      await sh('ip', ['addr', 'add', `${mine}/30`, 'dev', dev]);
      await sh('ip', ['link', 'set', dev, 'up']);
      await sh('ip', ['-n', host.ns, 'addr', 'add', `${theirs}/30`, 'dev', 'mgmt0']);
      await sh('ip', ['-n', host.ns, 'link', 'set', 'mgmt0', 'up']);
      instances.push(`${theirs}:${AGENT_PORT}`);
    }
    for (const [i, host] of lan.hosts.entries()) {
      const config = {
        http: { listen: instances[i] },
        listeners: [
          {
            name: 'lan',
            group: GROUP,
            port: PORT,
            interfaces: ['lan0'],
            serviceTimeout: '2s',
            retention: '60s',
          },
        ],
        publishers: [
          {
            name: 'self',
            group: GROUP,
            port: PORT,
            interface: 'lan0',
            ttl: 1,
            interval: '500ms',
            message: { type: 'VaultMulticastAgent', name: `agent-${i}`, addr: `${host.ipv4}:${AGENT_PORT}` },
          },
        ],
      };
      agentConfigs.push(config);
      agents.push(await spawnAgent(config, { host }));
    }
    prom = await startPrometheus({
      config: {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: ['alerts.yaml'],
        scrape_configs: [{ job_name: JOB, static_configs: [{ targets: instances }] }],
      },
      files: { 'alerts.yaml': await rulesForTest() },
    });
    scenarioStart = Date.now() / 1000;
    startPublisher(0, 'svc-steady', true);
    startPublisher(2, 'svc-kill');
    // Every agent sees both publishers and all three agents, and Prometheus has scraped that.
    await waitFor(
      async () => {
        const rows = await prom.query(`count by (instance) (vault_multicast_service_up == 1)`);
        return rows.length === 3 && rows.every((r) => r.value?.[1] === '5');
      },
      'every agent to see 5 services in Prometheus',
      30_000,
    );
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    for (const child of publishers.values()) child.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.stop('SIGKILL', 3000)));
    await lan?.destroy();
    if (process.env.VM_E2E_CAPTURE) await writeFile(process.env.VM_E2E_CAPTURE, transcript.join('\n'));
  }, 60_000);

  it('evaluates every shipped rule without errors and keeps quiet while all is well', async () => {
    await waitFor(
      async () => (await prom.rules()).every((r) => r.health === 'ok'),
      'rules evaluated',
      10_000,
    );
    const rules = await prom.rules();
    expect(rules.length).toBeGreaterThanOrEqual(13);
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
    const listening = await prom.query(
      'count by (job, group, port) (max by (job, instance, group, port) (vault_multicast_active_services))',
    );
    expect(listening.map((r) => r.value?.[1])).toEqual(['3']);
    expect(await active('VaultMulticastServicePartiallyVisible')).toEqual([]);
    expect(await active('VaultMulticastServiceStale')).toEqual([]);
    expect(await active('VaultMulticastHighErrorRate')).toEqual([]);
    expect(await active('VaultMulticastAgentDown')).toEqual([]);
  }, 60_000);

  it('fires VaultMulticastServiceStale for a SIGKILLed publisher and resolves when it returns', async () => {
    publishers.get('svc-kill')?.kill('SIGKILL');
    const [alert] = await waitFiring(
      'VaultMulticastServiceStale',
      { service_name: 'svc-kill', instance: instances[0] ?? '' },
      'stale alert',
    );
    expect(alert).toBeDefined();
    const address = `${lan.hosts[2]?.ipv4}:8200`;
    expect(alert?.labels).toEqual({
      alertname: 'VaultMulticastServiceStale',
      severity: 'warning',
      job: JOB,
      instance: instances[0],
      listener: 'lan',
      group: GROUP,
      port: String(PORT),
      service_type: 'VaultLibrary',
      service_name: 'svc-kill',
      address,
    });
    expect(alert?.annotations.description).toBe(
      `Agent ${instances[0]} (listener lan, ${GROUP}:${PORT}) has not heard VaultLibrary "svc-kill" at ${address} ` +
        'within its announced validity; the service is stale.',
    );
    expect(alert?.annotations.runbook_url).toMatch(/docs\/runbook\.md#vaultmulticastservicestale$/);
    note('Alerts while the publisher of svc-kill is SIGKILLed (GET /api/v1/alerts, excerpt)', alert);

    startPublisher(2, 'svc-kill');
    await waitFor(
      async () => (await active('VaultMulticastServiceStale', { service_name: 'svc-kill' })).length === 0,
      'stale alert to resolve',
      30_000,
    );
  }, 60_000);

  it('keeps VaultMulticastServiceStale firing through a crash and restart of the agent, and resolves it when the service returns', async () => {
    const host = lan.hosts[0];
    const instance = instances[0] ?? '';
    if (!host) throw new Error('no host 0');
    publishers.get('svc-kill')?.kill('SIGKILL');
    const [before] = await waitFiring(
      'VaultMulticastServiceStale',
      { service_name: 'svc-kill', instance },
      'stale alert before the restart',
    );
    const t0 = Date.now();
    const sequence: string[] = [];
    const others = new Set<string>();
    let restarted: SpawnedAgent | undefined;
    let missing = 0;
    // One poll: what Prometheus says about the agent and the alert right now.
    const poll = async (step: string) => {
      const alerts = await active('VaultMulticastServiceStale', { instance });
      for (const a of alerts)
        if (a.labels.service_name !== 'svc-kill') others.add(a.labels.service_name ?? '');
      const mine = alerts.find((a) => a.labels.service_name === 'svc-kill');
      if (mine?.state !== 'firing') missing++;
      const [up] = await prom.query(`up{instance="${instance}"}`);
      const [start] = await prom.query(`vault_multicast_start_time_seconds{instance="${instance}"}`);
      const [exported] = await prom.query(
        `vault_multicast_service_up{instance="${instance}",service_name="svc-kill"}`,
      );
      sequence.push(
        `t+${((Date.now() - t0) / 1000).toFixed(1)}s ${step}: up=${up?.value?.[1] ?? '-'} ` +
          `start_time=${start?.value?.[1] ?? '-'} service_up{svc-kill}=${exported?.value?.[1] ?? 'absent'} ` +
          `alert=${mine ? `${mine.state} since ${mine.activeAt}` : 'none'}`,
      );
    };
    await poll('stale, agent running');

    // A crash: no goodbye, no flush; the restarted agent starts with an empty registry.
    (agents[0] as SpawnedAgent).kill();
    await (agents[0] as SpawnedAgent).exited();
    await waitFor(
      async () => {
        await poll('agent killed');
        return (await prom.query(`up{instance="${instance}"} == 0`)).length > 0;
      },
      'Prometheus to see the agent down',
      30_000,
    );
    const restarting = spawnAgent(agentConfigs[0] as Record<string, unknown>, { host });
    while (restarted === undefined) {
      const done = await Promise.race([
        restarting,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
      ]);
      if (done) restarted = done;
      else await poll('agent starting');
    }
    agents[0] = restarted;
    await waitFor(
      async () => {
        await poll('agent restarted');
        const [up] = await prom.query(`up{instance="${instance}"}`);
        const [start] = await prom.query(`vault_multicast_start_time_seconds{instance="${instance}"}`);
        return up?.value?.[1] === '1' && Number(start?.value?.[1]) * 1000 > t0;
      },
      'Prometheus to scrape the restarted agent',
      30_000,
    );
    // Several evaluations with the new agent, which knows nothing of svc-kill.
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      await poll('agent restarted');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await servicesSeen(restarted)).has('svc-kill')).toBe(false);
    // Every poll saw the alert firing, and it is the same alert (same activeAt) as before the crash.
    expect(missing, sequence.join('\n')).toBe(0);
    const [after] = await active('VaultMulticastServiceStale', { service_name: 'svc-kill', instance });
    expect(after?.state).toBe('firing');
    expect(after?.activeAt).toBe(before?.activeAt);
    // The services that are fine (up before and after the restart) never fired on the restarted agent.
    expect([...others]).toEqual([]);

    startPublisher(2, 'svc-kill');
    await waitFor(
      async () => {
        await poll('svc-kill announces again');
        return (
          (await active('VaultMulticastServiceStale', { service_name: 'svc-kill', instance })).length === 0
        );
      },
      'stale alert to resolve once the service is back',
      30_000,
    );
    expect([...others]).toEqual([]);
    const compact = sequence.filter((line, i) => line.split(': ')[1] !== sequence[i - 1]?.split(': ')[1]);
    note(
      'Agent restart while svc-kill is stale (Prometheus, polled every ~0.5 s; repeats left out)',
      compact.join('\n'),
    );
    console.log(compact.join('\n'));
  }, 120_000);

  it('raises no stale alert anywhere when an agent restarts gracefully (SIGTERM: its services say goodbye)', async () => {
    const host = lan.hosts[0];
    if (!host) throw new Error('no host 0');
    // The crash above left agent-0 stale on the other agents until it came back: start from a quiet state.
    await waitFor(
      async () => (await active('VaultMulticastServiceStale')).length === 0,
      'no stale alert before the graceful restart',
      30_000,
    );
    const seen = new Set<string>();
    const poll = async () => {
      for (const a of await active('VaultMulticastServiceStale'))
        seen.add(`${a.labels.service_name}@${a.labels.instance} ${a.state}`);
    };
    const stopped = (agents[0] as SpawnedAgent).stop('SIGTERM');
    while (
      !(await Promise.race([stopped.then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]))
    )
      await poll();
    expect((await stopped).code).toBe(0);
    // Down long enough for the other agents' 2 s timeout and the 3 s `for:` to have fired, had it been stale.
    const downUntil = Date.now() + 6000;
    while (Date.now() < downUntil) {
      await poll();
      await new Promise((r) => setTimeout(r, 300));
    }
    const restarting = spawnAgent(agentConfigs[0] as Record<string, unknown>, { host });
    let restarted: SpawnedAgent | undefined;
    while (restarted === undefined) {
      const done = await Promise.race([
        restarting,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 300)),
      ]);
      if (done) restarted = done;
      else await poll();
    }
    agents[0] = restarted;
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      await poll();
      await new Promise((r) => setTimeout(r, 300));
    }
    expect([...seen]).toEqual([]);
    note('Stale alerts during a graceful restart of agent 0 (polled every 0.3 s for ~12 s)', [...seen]);
  }, 120_000);

  it('fires VaultMulticastHighErrorRate when garbage arrives, and not before', async () => {
    const ratio =
      'sum by (instance) (rate(vault_multicast_dropped_packets_total{reason!~"filtered|duplicate|service_limit"}[5m]))';
    const before = await prom.query(
      `${ratio} or sum by (instance) (vault_multicast_received_packets_total) * 0`,
    );
    expect(before.map((r) => Number(r.value?.[1]))).toEqual([0, 0, 0]);
    expect(await active('VaultMulticastHighErrorRate')).toEqual([]);

    const sender = lan.hosts[2];
    if (!sender) throw new Error('no host 2');
    const sent = await sender.run(process.execPath, [
      '--input-type=module',
      '-e',
      GARBAGE,
      JSON.stringify([GROUP, PORT, sender.ipv4, 400]),
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    const fired = await waitFiring(
      'VaultMulticastHighErrorRate',
      { instance: instances[1] ?? '' },
      'error-rate alert',
    );
    expect(fired[0]?.labels).toEqual({
      alertname: 'VaultMulticastHighErrorRate',
      severity: 'warning',
      job: JOB,
      instance: instances[1],
      listener: 'lan',
      group: GROUP,
      port: String(PORT),
    });
    expect(fired[0]?.annotations.description).toMatch(
      new RegExp(
        `^\\d+(\\.\\d+)?% of what listener lan of agent ${instances[1]?.replace(/\./g, '\\.')} received`,
      ),
    );
    note('Alerts after 400 garbage datagrams (excerpt)', fired[0]);
    note(
      'Drops by reason (instant query)',
      (await prom.query('sum by (instance, reason) (vault_multicast_dropped_packets_total)')).map(
        (r) => `${JSON.stringify(r.metric)} ${r.value?.[1]}`,
      ),
    );
  }, 60_000);

  it('fires VaultMulticastServicePartiallyVisible when one host is cut off, while every dashboard query has data', async () => {
    expect(await active('VaultMulticastServicePartiallyVisible')).toEqual([]);
    const cut = lan.hosts[1];
    if (!cut) throw new Error('no host 1');
    await cut.setLinkUp(false);

    const fired = await waitFiring(
      'VaultMulticastServicePartiallyVisible',
      { service_name: 'svc-steady' },
      'partial-visibility alert',
    );
    const address = `${lan.hosts[0]?.ipv4}:8200`;
    expect(fired[0]?.labels).toEqual({
      alertname: 'VaultMulticastServicePartiallyVisible',
      severity: 'warning',
      job: JOB,
      group: GROUP,
      port: String(PORT),
      service_type: 'VaultLibrary',
      service_name: 'svc-steady',
      address,
    });
    expect(fired[0]?.annotations.description).toBe(
      `VaultLibrary "svc-steady" at ${address} on ${GROUP}:${PORT} is up on only 2 of the agents of job ${JOB} ` +
        `listening there. Agents not seeing it: ${instances[1]}.`,
    );
    // Its agent is still scraped: the alert is about multicast, not about a target being down.
    expect(await active('VaultMulticastAgentDown')).toEqual([]);
    expect((await servicesSeen(agents[1] as SpawnedAgent)).get('svc-steady')).toBe('stale');

    note(
      'Alerts with host 1 cut off the LAN (GET /api/v1/alerts, VaultMulticastServicePartiallyVisible)',
      fired[0],
    );
    note(
      'Visibility matrix query (instant)',
      (await prom.query('max by (instance, service_type, service_name) (vault_multicast_service_up)'))
        .map(
          (r) => `${r.metric.service_type}/${r.metric.service_name} @ ${r.metric.instance} = ${r.value?.[1]}`,
        )
        .sort(),
    );
    note(
      'Send errors by reason (instant query)',
      (await prom.query('sum by (instance, publisher, reason) (vault_multicast_send_errors_total)')).map(
        (r) => `${JSON.stringify(r.metric)} ${r.value?.[1]}`,
      ),
    );
    note(
      'Rules while host 1 is cut off (GET /api/v1/rules: name, health, state)',
      (await prom.rules()).map((r) => `${r.name} ${r.health} ${r.state ?? ''}`),
    );

    // Every query of both dashboards returns data in this state (no empty panel).
    const elapsed = Math.ceil(Date.now() / 1000 - scenarioStart) + 5;
    const values = {
      overview: {
        job: JOB,
        instance: '.*',
        group: GROUP,
        service_type: '.*',
        __rate_interval: '4s',
        __range: `${elapsed}s`,
      },
      service: {
        job: JOB,
        instance: '.*',
        group: GROUP,
        service_type: 'VaultLibrary',
        service_name: 'svc-steady',
        address: '.*',
        __rate_interval: '4s',
        __range: `${elapsed}s`,
      },
    };
    const empty: string[] = [];
    let checked = 0;
    for (const [file, vars] of [
      ['vault-multicast-overview.json', values.overview],
      ['vault-multicast-service.json', values.service],
    ] as const) {
      const json = JSON.parse(await readFile(join(REPO_ROOT, 'dashboards', file), 'utf8')) as DashboardJson;
      for (const q of dashboardQueries(json)) {
        const expr = substitute(q.expr, vars);
        const rows = q.instant ? await prom.query(expr) : await prom.queryRange(expr, scenarioStart, 1);
        checked++;
        if (rows.length === 0) empty.push(`${file}: ${q.where}: ${expr}`);
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(empty).toEqual([]);

    await cut.setLinkUp(true);
    await waitFor(
      async () =>
        (await active('VaultMulticastServicePartiallyVisible', { service_name: 'svc-steady' })).length === 0,
      'partial-visibility alert to resolve after the cable is back',
      30_000,
    );
  }, 60_000);

  it('renders every firing alert without template errors', async () => {
    for (const a of await prom.alerts()) {
      for (const text of Object.values(a.annotations))
        expect(text, a.labels.alertname).not.toMatch(/error expanding template|<no value>/);
    }
  }, 60_000);
});
