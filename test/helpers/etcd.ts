import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Debian's etcd-server on 127.0.0.1 with a temp data dir and free ports; stop/kill/restart keep the data. */
export class TestEtcd {
  readonly dir = mkdtempSync(join(tmpdir(), 'bird-confd-etcd-'));
  private child: ChildProcess | null = null;
  private constructor(readonly clientPort: number, readonly peerPort: number) {}

  /** Starts etcd and waits until it answers. */
  static async start(): Promise<TestEtcd> {
    const e = new TestEtcd(await freePort(), await freePort());
    await e.launch();
    return e;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  /** A client for the test's own puts. */
  client(): Etcd3 {
    return new Etcd3({ hosts: [this.endpoint], dialTimeout: 2000 });
  }

  /** Starts the process (again) on the same ports and data. */
  async launch(): Promise<void> {
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn('etcd', ['--name', 'test', '--data-dir', join(this.dir, 'data'), '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `test=${peer}`, '--log-level', 'error'], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    const c = this.client();
    try {
      for (;;) {
        try {
          await c.get('health-probe').string();
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`etcd did not start: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      c.close();
    }
  }

  /** Kills the process (SIGKILL); the data stays for launch(). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops etcd and removes its data. */
  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
