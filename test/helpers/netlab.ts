import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProtocolStatus } from '../../src/inspect/bird-replies.js';
import { debianBird, eventually, protocolsOf, run, startBirdIn, stopProcess } from './bird-lab.js';
import { calicoBird, skipWithoutCalicoBird } from './calico-bird.js';

/**
 * Why this machine cannot run the lab, or null: it needs root, `ip netns`, `iptables`, Debian's
 * `bird` and `birdc` (the ToRs) and Calico's BIRD (the cluster nodes; missing, it is a reason to
 * skip only outside CI, and under CI the lab fails on it).
 */
export function netLabAvailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  for (const [cmd, args] of [['ip', ['netns', 'list']], [debianBird.bird, ['--version']], [debianBird.birdc, ['--help']], ['iptables', ['--version']]] as const) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.error) return `${cmd} is not usable: ${r.error.message}`;
    if (cmd !== debianBird.birdc && r.status !== 0) return `${cmd} is not usable: ${r.stderr}`;
  }
  return skipWithoutCalicoBird() || null;
}

const PREFIX = 'bcn-';
const live = new Set<NetLab>();
let hooked = false;

/** Tears down every open lab synchronously: used on exit and on SIGINT/SIGTERM, when no promise will run. */
function tearDownAll(): void {
  for (const lab of live) lab.closeSync();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', tearDownAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      tearDownAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}

/**
 * Removes namespaces that earlier lab runs left behind (their process id is in the name and the
 * process is gone), so an interrupted run never blocks the next one.
 */
export function sweepStaleNamespaces(): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of listed.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^bcn-[a-z0-9]+-(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) continue;
    // Daemons a killed run left in the namespace go first (BIRD outlives its parent).
    const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    spawnSync('ip', ['netns', 'del', name]);
  }
}

/**
 * Which BIRD runs a router: Calico's (the cluster nodes, as calico-node runs it) or Debian's stock
 * one (the ToRs: a second implementation on the other side of each session).
 */
export type BirdMake = 'calico' | 'debian';

/** A BIRD daemon running in one of the lab's namespaces. */
export interface LabRouter {
  readonly name: string;
  readonly ns: string;
  readonly socket: string;
  /** The client for its control socket: Calico's birdcl or Debian's birdc. */
  readonly client: string;
  readonly child: ChildProcess;
  stderr(): string;
}

/**
 * A small routed network for tests: one network namespace per router or host, routers joined on
 * one Ethernet segment (a Linux bridge in its own namespace) and hosts joined by point-to-point
 * veth pairs. Every namespace name carries the test process id; `close()` (and, should the test
 * process be interrupted, an exit hook) stops every daemon and deletes every namespace, which
 * takes their links with them.
 */
export class NetLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'bird-confd-netlab-'));
  private readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly routers = new Map<string, LabRouter>();
  private readonly processes: ChildProcess[] = [];
  private bridgeNs: string | null = null;

  constructor(tag: string) {
    if (!/^[a-z0-9]{1,8}$/.test(tag)) throw new Error(`lab tag must be short lowercase letters and digits: ${tag}`);
    this.prefix = `${PREFIX}${tag}-${process.pid}-`;
    hookExit();
    live.add(this);
  }

  /** The namespace that holds `name`. */
  ns(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Creates a namespace for `name` with loopback up and forwarding on, as on a router or a Kubernetes node. */
  addNamespace(name: string): string {
    const ns = this.ns(name);
    run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    for (const [key, value] of [
      ['net.ipv4.ip_forward', '1'],
      ['net.ipv4.conf.all.rp_filter', '0'],
      ['net.ipv4.conf.default.rp_filter', '0'],
      ['net.ipv4.conf.all.send_redirects', '0'],
      ['net.ipv4.conf.default.send_redirects', '0'],
      ['net.ipv6.conf.all.forwarding', '1'],
    ] as const) {
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
    }
    return ns;
  }

  /**
   * Joins `name` (its namespace created when needed) to the shared segment as `eth0` with `cidr`
   * (e.g. `10.78.0.11/24`) and, when given, an IPv6 `cidr6` (usable at once: no duplicate
   * address detection).
   */
  joinSegment(name: string, cidr: string, cidr6?: string): void {
    if (this.bridgeNs === null) {
      this.bridgeNs = this.addNamespace('br');
      run('ip', ['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
      run('ip', ['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    }
    const ns = this.namespaces.includes(this.ns(name)) ? this.ns(name) : this.addNamespace(name);
    const port = `p-${name}`.slice(0, 15);
    run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.bridgeNs]);
    run('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0']);
    run('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'up']);
    run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
    if (cidr6) run('ip', ['-n', ns, '-6', 'addr', 'add', cidr6, 'dev', 'eth0', 'nodad']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  /** A point-to-point link between `a` and `b` (namespaces created when needed), named `to-<other>` on each side. */
  link(a: string, aCidr: string, b: string, bCidr: string): void {
    for (const n of [a, b]) if (!this.namespaces.includes(this.ns(n))) this.addNamespace(n);
    const [da, db] = [`to-${b}`.slice(0, 15), `to-${a}`.slice(0, 15)];
    run('ip', ['link', 'add', da, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', db, 'netns', this.ns(b)]);
    for (const [n, dev, cidr] of [[a, da, aCidr], [b, db, bCidr]] as const) {
      run('ip', ['-n', this.ns(n), 'addr', 'add', cidr, 'dev', dev]);
      run('ip', ['-n', this.ns(n), 'link', 'set', dev, 'up']);
    }
  }

  /** Runs a command inside `name`'s namespace; throws with its stderr when it fails. */
  exec(name: string, cmd: string, args: readonly string[]): string {
    return run('ip', ['netns', 'exec', this.ns(name), cmd, ...args]);
  }

  /** Like `exec`, but returns the exit status and output instead of throwing; `env` is added to the environment. */
  try(name: string, cmd: string, args: readonly string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.ns(name), cmd, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
  }

  /** Starts a long-running process inside `name`'s namespace; it is killed by `close()`. */
  spawn(name: string, cmd: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(name), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.push(child);
    return child;
  }

  /**
   * Starts `bird -f -c config` (`bird6` with `family: 6`) of `make` in `name`'s namespace with its
   * working folder set to the config's folder (for relative includes) and a private control
   * socket; resolves once BIRD answers on it. The router is known as `key` (default: `name`, or
   * `name6` for bird6); one already running under that key is stopped first.
   */
  async startBird(name: string, config: string, cwd: string, options: { make: BirdMake; family?: 4 | 6; key?: string }): Promise<LabRouter> {
    const v6 = options.family === 6;
    const key = options.key ?? (v6 ? `${name}6` : name);
    const calico = options.make === 'calico' ? calicoBird() : null;
    const binary = calico ? (v6 ? calico.bird6 : calico.bird) : v6 ? debianBird.bird6 : debianBird.bird;
    await this.stopBird(key);
    const ns = this.ns(name);
    const socket = join(this.dir, `${key}.ctl`);
    const started = startBirdIn(ns, config, socket, join(this.dir, `${key}.pid`), { binary, cwd });
    const router: LabRouter = { name: key, ns, socket, client: calico?.birdcl ?? debianBird.birdc, child: started.child, stderr: started.stderr };
    this.routers.set(key, router);
    await started.answering;
    return router;
  }

  /** Stops the BIRD known as `key` (if running) and flushes the routes it left in the kernel (`persist`). */
  async stopBird(key: string): Promise<void> {
    const r = this.routers.get(key);
    if (!r) return;
    this.routers.delete(key);
    await stopProcess(r.child);
    spawnSync('ip', ['-n', r.ns, 'route', 'flush', 'proto', 'bird']);
    spawnSync('ip', ['-n', r.ns, '-6', 'route', 'flush', 'proto', 'bird']);
  }

  /** The running router `name`. */
  router(name: string): LabRouter {
    const r = this.routers.get(name);
    if (!r) throw new Error(`no BIRD is running for ${name}`);
    return r;
  }

  /** Runs a command with the client of `name`'s BIRD (Calico's birdcl or Debian's birdc) and returns its output. */
  birdc(name: string, command: string): string {
    const r = this.router(name);
    return run(r.client, ['-s', r.socket, ...command.split(' ')]);
  }

  /** The BGP protocols of `name`'s BIRD. */
  async bgpProtocols(name: string): Promise<ProtocolStatus[]> {
    return (await protocolsOf(this.router(name).socket)).filter((p) => p.proto === 'BGP');
  }

  /** Waits until every named BGP protocol of `name` is Established. */
  async established(name: string, protocols: readonly string[], timeoutMs = 30_000): Promise<void> {
    await eventually(
      `${name}: ${protocols.join(', ')} Established`,
      async () => {
        const all = await this.bgpProtocols(name);
        const down = protocols.filter((p) => all.find((q) => q.name === p)?.bgp?.state !== 'Established');
        if (down.length) throw new Error(`not yet: ${down.map((p) => `${p} ${all.find((q) => q.name === p)?.bgp?.state ?? 'missing'}`).join(', ')}`);
        return true;
      },
      timeoutMs,
    );
  }

  /** `ip route show PREFIX` in `name`'s namespace (empty when there is no such route). */
  route(name: string, prefix: string, family: 4 | 6 = prefix.includes(':') ? 6 : 4): string {
    return this.exec(name, 'ip', [`-${family}`, 'route', 'show', ...prefix.split(' ')]).trim();
  }

  /** Waits until `name`'s kernel route for `prefix` satisfies `ok`; resolves with the route text. */
  async routeWhere(name: string, prefix: string, ok: (route: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    return eventually(
      `${name}: route ${prefix} ${what}`,
      async () => {
        const route = this.route(name, prefix);
        if (!ok(route)) throw new Error(`route is now ${JSON.stringify(route)}`);
        return route;
      },
      timeoutMs,
    );
  }

  /** Stops every daemon and process, deletes every namespace and the lab folder. Safe to call twice. */
  async close(): Promise<void> {
    for (const name of [...this.routers.keys()]) await this.stopBird(name);
    for (const child of this.processes.splice(0)) await stopProcess(child);
    this.closeSync();
  }

  /** The synchronous part of `close()`, also used from the exit hook. */
  closeSync(): void {
    for (const r of this.routers.values()) killQuietly(r.child);
    this.routers.clear();
    for (const child of this.processes.splice(0)) killQuietly(child);
    for (const ns of this.namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /** A folder inside the lab's folder (created). */
  folder(name: string): string {
    const d = join(this.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }
}

function killQuietly(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
