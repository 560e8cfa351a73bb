import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdControl } from '../../src/watch/bird-control.js';
import type { ProtocolStatus } from '../../src/inspect/bird-replies.js';
import { calicoBird, skipWithoutCalicoBird } from './calico-bird.js';

/**
 * Why this machine cannot run the BIRD lab (root, `ip netns`, Calico's BIRD), or null. Calico's
 * BIRD missing is a reason to skip only outside CI; under CI the lab then fails on it.
 */
export function labAvailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `ip is not usable: ${r.error?.message ?? r.stderr}`;
  return skipWithoutCalicoBird() || null;
}

/** Debian's stock BIRD, by absolute path: in the labs it runs only the ToRs, a second implementation facing Calico's. */
export const debianBird = { bird: '/usr/sbin/bird', bird6: '/usr/sbin/bird6', birdc: '/usr/sbin/birdc' } as const;

/** A BIRD running in a network namespace with a private control socket. */
export interface LabBird {
  readonly ns: string;
  readonly socket: string;
  readonly child: ChildProcess;
}

/**
 * Two network namespaces joined by a veth pair (10.77.x.1 and 10.77.x.2 on one /24), where
 * Calico's BIRD runs rendered configs as on calico-node, and its kernel protocol never touches
 * the host. Every name carries the process id, so parallel test files do not collide. `close()`
 * stops the daemons and removes namespaces and files; call it from an `after` hook.
 */
export class BirdLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'bird-confd-lab-'));
  readonly namespaces: [string, string];
  readonly addresses: [string, string];
  private readonly birds: LabBird[] = [];

  constructor(tag: string, subnet: number) {
    const id = `${tag}${process.pid % 100000}`;
    this.namespaces = [`bcl-${id}-1`, `bcl-${id}-2`];
    this.addresses = [`10.77.${subnet}.1`, `10.77.${subnet}.2`];
  }

  /** Creates the namespaces and the link between them. */
  setUp(): void {
    const [n1, n2] = this.namespaces;
    const veth = `bv${this.namespaces[0].slice(4, 12).replace(/-/g, '')}`.slice(0, 12);
    run('ip', ['netns', 'add', n1]);
    run('ip', ['netns', 'add', n2]);
    run('ip', ['link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`]);
    run('ip', ['link', 'set', `${veth}a`, 'netns', n1]);
    run('ip', ['link', 'set', `${veth}b`, 'netns', n2]);
    for (const [i, ns] of this.namespaces.entries()) {
      const dev = `${veth}${i === 0 ? 'a' : 'b'}`;
      run('ip', ['-n', ns, 'addr', 'add', `${this.addresses[i]}/24`, 'dev', dev]);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  }

  /** Starts Calico's `bird -f -c config` (or `binary`) in namespace `index` (0 or 1); resolves once its socket answers. */
  async start(index: 0 | 1, config: string, name: string, binary?: string): Promise<LabBird> {
    const ns = this.namespaces[index];
    const socket = join(this.dir, `${name}.ctl`);
    const started = startBirdIn(ns, config, socket, join(this.dir, `${name}.pid`), { binary: binary ?? calicoBird().bird });
    const bird = { ns, socket, child: started.child };
    this.birds.push(bird);
    await started.answering;
    return bird;
  }

  /** Stops every daemon and removes the namespaces and files. Safe to call twice. */
  async close(): Promise<void> {
    for (const b of this.birds.splice(0)) await stopProcess(b.child);
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts the BIRD daemon `binary` (a path: Calico's or Debian's bird or bird6) with `-f` in network
 * namespace `ns` with a private control socket. `answering` resolves once BIRD answers on the
 * socket, and rejects (with BIRD's stderr) when it exits or stays silent for 10 s; the child is
 * returned at once so a caller can track it either way.
 */
export function startBirdIn(
  ns: string,
  config: string,
  socket: string,
  pidFile: string,
  options: { binary: string; cwd?: string },
): { child: ChildProcess; stderr: () => string; answering: Promise<void> } {
  const { binary } = options;
  const child = spawn('ip', ['netns', 'exec', ns, binary, '-f', '-c', config, '-s', socket, '-P', pidFile], { cwd: options.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const answering = (async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${binary} in ${ns} exited (${child.exitCode}): ${stderr}`);
      try {
        (await BirdControl.open(socket, { timeoutMs: 1000 })).close();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${binary} in ${ns} did not answer on ${socket}: ${(err as Error).message} ${stderr}`);
        await sleep(100);
      }
    }
  })();
  return { child, stderr: () => stderr, answering };
}

/** Stops a child process: SIGTERM, then SIGKILL if it has not exited after 3 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(1000)]);
  }
}

/** The protocols a BIRD runs now. */
export async function protocolsOf(socket: string): Promise<ProtocolStatus[]> {
  const c = await BirdControl.open(socket);
  try {
    return await c.protocols();
  } finally {
    c.close();
  }
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(200);
  }
}

/** The protocol `name` once it is Established. */
export function established(socket: string, name: string, timeoutMs?: number): Promise<ProtocolStatus> {
  return eventually(`${name} Established`, async () => (await protocolsOf(socket)).find((p) => p.name === name && p.bgp?.state === 'Established'), timeoutMs);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command; returns its stdout, or throws with its stderr when it fails. */
export function run(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return r.stdout;
}
