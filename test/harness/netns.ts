/**
 * Test hosts in network namespaces. Multicast tests never touch the machine's real interfaces: single-host
 * tests run inside the throwaway namespace scripts/test.sh creates (only `lo` in it), and multi-host tests
 * build a LAN here: one namespace per host, each with a veth `lan0` on a bridge in a namespace of its own.
 * Addresses come from the benchmarking range 198.18.0.0/15 and the documentation prefix 2001:db8::/32, so
 * nothing here can be confused with, or routed to, a real network.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

function canUseNetns(): boolean {
  if (process.env.VM_NO_NETNS === '1') return false;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return true;
}

/** True when this process may create namespaces (root, and not told otherwise). */
export const NETNS_AVAILABLE = canUseNetns();
/** True when the test process itself runs inside the throwaway namespace of scripts/test.sh. */
export const IN_TEST_NETNS = Boolean(process.env.VM_TEST_NETNS);

export async function sh(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args, { timeout: 15_000 });
  return stdout;
}

let counter = 0;
function uniqueTag(): string {
  counter += 1;
  return `${process.pid.toString(36)}_${counter.toString(36)}`;
}

/** Subnet index 1..250 for one LAN, distinct across the LANs of concurrently running test files. */
function subnetIndex(): number {
  const pool = Number(process.env.VITEST_POOL_ID ?? '1');
  return ((pool * 37 + counter * 7 + (process.pid % 50)) % 250) + 1;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Host {
  /** Namespace name, for `ip netns exec`. */
  readonly ns: string;
  /** The LAN interface inside the namespace ('lo' for a loopback host). */
  readonly ifname: string;
  readonly ipv4: string;
  readonly ipv6: string | undefined;
  /** Starts a process inside the namespace; it is killed (by PID) when the host is destroyed. */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace to completion. */
  run(cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Takes the host's cable out (its veth end on the bridge goes down) or plugs it back in. */
  setLinkUp(up: boolean): Promise<void>;
}

class NsHost implements Host {
  readonly children = new Set<ChildProcess>();
  constructor(
    readonly ns: string,
    readonly ifname: string,
    readonly ipv4: string,
    readonly ipv6: string | undefined,
    private readonly bridgePort: { ns: string; dev: string } | undefined,
  ) {}

  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, cmd, ...args], { stdio: 'pipe', ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = this.spawn(cmd, args);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => {
        stdout += d;
      });
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      else child.stdin?.end();
    });
  }

  async setLinkUp(up: boolean): Promise<void> {
    if (!this.bridgePort) throw new Error('a loopback host has no link to take down');
    await sh('ip', ['-n', this.bridgePort.ns, 'link', 'set', this.bridgePort.dev, up ? 'up' : 'down']);
  }

  async killAll(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(new Promise((r) => child.once('exit', r)));
      child.kill('SIGKILL');
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000))]);
  }
}

async function addNamespace(ns: string): Promise<void> {
  await sh('ip', ['netns', 'add', ns]);
  await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

async function deleteNamespace(ns: string): Promise<void> {
  await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
}

async function waitForDad(ns: string, dev: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const out = await sh('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', dev, 'tentative']);
    if (out.trim() === '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`IPv6 addresses on ${ns}/${dev} still tentative after 5 s`);
}

/** A namespace with only loopback up: a hermetic single host for processes a test starts. */
export async function createLoopbackHost(): Promise<Host & { destroy(): Promise<void> }> {
  const ns = `vml${uniqueTag()}`;
  await addNamespace(ns);
  const host = new NsHost(ns, 'lo', '127.0.0.1', undefined, undefined);
  return Object.assign(host, {
    async destroy() {
      await host.killAll();
      await deleteNamespace(ns);
    },
  });
}

export interface Lan {
  readonly hosts: Host[];
  /** The test process's own address on the LAN, when created with `attachSelf`. */
  readonly selfIpv4: string | undefined;
  readonly selfIfname: string | undefined;
  /** IPv4 prefix of this LAN, e.g. '198.18.7.'. */
  readonly prefix: string;
  destroy(): Promise<void>;
}

export interface LanOptions {
  hosts: number;
  ipv6?: boolean;
  /**
   * Also put the test process on the LAN (only allowed inside the throwaway test namespace, where the
   * interface it adds vanishes with the namespace) so a test can talk HTTP to the hosts directly.
   */
  attachSelf?: boolean;
}

/**
 * Several hosts on one Ethernet segment: host i is 198.18.K.(i+1) and 2001:db8:K::(i+1) on `lan0`, with a
 * multicast route on it. The bridge does not snoop IGMP, so every host sees every group (like a dumb switch).
 */
export async function createLan(opts: LanOptions): Promise<Lan> {
  const tag = uniqueTag();
  const k = subnetIndex();
  const prefix = `198.18.${k}.`;
  const bridgeNs = `vmb${tag}`;
  const namespaces = [bridgeNs];
  const hosts: NsHost[] = [];
  let selfDev: string | undefined;
  try {
    await addNamespace(bridgeNs);
    await sh('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await sh('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < opts.hosts; i++) {
      const ns = `vmh${tag}x${i}`;
      namespaces.push(ns);
      await addNamespace(ns);
      const brDev = `p${i}`;
      await sh('ip', [
        'link',
        'add',
        `vh${tag}${i}`,
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        'name',
        brDev,
        'netns',
        bridgeNs,
      ]);
      await sh('ip', ['-n', ns, 'link', 'set', `vh${tag}${i}`, 'name', 'lan0']);
      await sh('ip', ['-n', bridgeNs, 'link', 'set', brDev, 'master', 'br0', 'up']);
      const ipv4 = `${prefix}${i + 1}`;
      await sh('ip', ['-n', ns, 'addr', 'add', `${ipv4}/24`, 'dev', 'lan0']);
      let ipv6: string | undefined;
      if (opts.ipv6) {
        ipv6 = `2001:db8:${k.toString(16)}::${(i + 1).toString(16)}`;
        await sh('ip', ['-n', ns, '-6', 'addr', 'add', `${ipv6}/64`, 'dev', 'lan0', 'nodad']);
      }
      await sh('ip', ['-n', ns, 'link', 'set', 'lan0', 'up']);
      await sh('ip', ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lan0']);
      hosts.push(new NsHost(ns, 'lan0', ipv4, ipv6, { ns: bridgeNs, dev: brDev }));
    }
    if (opts.attachSelf) {
      if (!IN_TEST_NETNS) throw new Error('attachSelf needs the test namespace of scripts/test.sh');
      selfDev = `vs${tag}`.slice(0, 15);
      await sh('ip', ['link', 'add', selfDev, 'type', 'veth', 'peer', 'name', 'pself', 'netns', bridgeNs]);
      await sh('ip', ['-n', bridgeNs, 'link', 'set', 'pself', 'master', 'br0', 'up']);
      await sh('ip', ['addr', 'add', `${prefix}254/24`, 'dev', selfDev]);
      await sh('ip', ['link', 'set', selfDev, 'up']);
    }
    if (opts.ipv6) for (const h of hosts) await waitForDad(h.ns, 'lan0');
  } catch (err) {
    for (const h of hosts) await h.killAll();
    if (selfDev) await sh('ip', ['link', 'del', selfDev]).catch(() => undefined);
    for (const ns of namespaces) await deleteNamespace(ns);
    throw err;
  }
  return {
    hosts,
    selfIpv4: selfDev ? `${prefix}254` : undefined,
    selfIfname: selfDev,
    prefix,
    async destroy() {
      for (const h of hosts) await h.killAll();
      if (selfDev) await sh('ip', ['link', 'del', selfDev]).catch(() => undefined);
      for (const ns of namespaces) await deleteNamespace(ns);
    },
  };
}

/** A UDP port no socket of this namespace holds right now. */
export async function freeUdpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP port no socket of this namespace holds right now. */
export async function freeTcpPort(): Promise<number> {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** Waits until `cond` returns true, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
