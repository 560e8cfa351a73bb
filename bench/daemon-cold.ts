// Daemon cold start: a real `bird-confd watch --datastore etcdv3` process (the installed CLI),
// against Debian's etcd holding the Calico resources of a generated cluster and the in-process
// Kubernetes API server (test/helpers) serving its Services, Endpoints, EndpointSlices and Secrets, as calico-node
// runs in etcd mode with KUBECONFIG. Timed from the process start and from its first list to the
// node's files applied (checked as the sidecar checks them: by the running Calico BIRD over its
// control socket, `configure check`); its peak memory read from /proc after that.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { TestEtcd } from '../test/helpers/etcd.js';
import { FakeKubeApi } from '../test/helpers/fake-kube-api.js';
import { followedCollections } from '../src/watch/kube-source.js';
import { calicoBird } from './calico-bird.js';
import { generateDocuments, nodeName, type Shape } from './generate.js';

/** The figures of one cold start, or why it was not measured. */
export type ColdStart =
  | {
      readonly nodes: number;
      readonly shape: Shape;
      readonly services: number;
      readonly fromStartMs: number;
      readonly fromListMs: number;
      /** CPU time (user + system) of the process from its first list to the apply: steadier than wall time on a shared machine. */
      readonly cpuFromListMs: number;
      readonly peakMiB: number;
      readonly runs: number;
    }
  | { readonly skipped: string };

const plurals: Record<string, string> = { BGPConfiguration: 'bgpconfigurations', BGPPeer: 'bgppeers', Node: 'nodes', IPPool: 'ippools' };
const kubeCollections: Record<string, string> = { Service: 'services', Endpoints: 'endpoints', EndpointSlice: 'endpointslices', Secret: 'secrets' };
type Doc = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

/** Puts the cluster's Calico resources into etcd under Calico's keys, and the rest into the Kubernetes API. */
async function loadCluster(client: Etcd3, kube: FakeKubeApi, docs: readonly Doc[], node: string): Promise<void> {
  const puts: [string, string][] = [];
  for (const d of docs) {
    const plural = plurals[d.kind];
    const { kind: _kind, apiVersion: _v, ...body } = d;
    if (plural) puts.push([`/calico/resources/v3/projectcalico.org/${plural}/${d.metadata.name}`, JSON.stringify(body)]);
    else if (d.kind === 'BlockAffinity') {
      const spec = d.spec as { node: string; cidr: string; state: string };
      const family = spec.cidr.includes(':') ? 'ipv6' : 'ipv4';
      if (spec.node === node) puts.push([`/calico/ipam/v2/host/${node}/${family}/block/${spec.cidr.replace('/', '-')}`, JSON.stringify({ state: spec.state })]);
    } else if (kubeCollections[d.kind]) kube.set(kubeCollections[d.kind]!, d as Parameters<FakeKubeApi['set']>[1]);
  }
  for (let i = 0; i < puts.length; i += 500) await Promise.all(puts.slice(i, i + 500).map(([k, v]) => client.put(k).value(v)));
}

/** The CPU time a process has used so far (user + system, from /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Calico's BIRD and BIRD6 running with a minimal config and control sockets in `dir`, as calico-node
 * runs them beside the sidecar: the daemon's default check then asks them (`configure check`).
 */
async function runningBirds(bird: { bird: string; bird6: string }, dir: string): Promise<{ sockets: [string, string]; stop: () => void }> {
  const children: ChildProcess[] = [];
  const sockets: [string, string] = [join(dir, 'bird.ctl'), join(dir, 'bird6.ctl')];
  const stop = () => children.forEach((c) => c.kill('SIGTERM'));
  try {
    for (const [i, binary] of [bird.bird, bird.bird6].entries()) {
      const cfg = join(dir, `running-${i}.cfg`);
      writeFileSync(cfg, 'router id 10.255.255.1;\nprotocol device { }\n');
      children.push(spawn(binary, ['-f', '-c', cfg, '-s', sockets[i]!, '-P', join(dir, `bird-${i}.pid`)], { stdio: 'ignore' }));
    }
    for (let waited = 0; !sockets.every((s) => existsSync(s)); waited += 50) {
      if (waited > 10_000) throw new Error(`Calico's BIRD did not open ${sockets.join(' and ')} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { sockets, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** One watch run to its first apply: times from the process start and from its first list, and its peak memory. */
async function oneRun(env: Record<string, string>, args: string[]): Promise<{ fromStartMs: number; fromListMs: number; cpuFromListMs: number; peakMiB: number }> {
  const started = Date.now();
  // BENCH_CHILD_FLAGS: node flags for the watch process (e.g. --cpu-prof), to see where its time goes.
  const child = spawn(process.execPath, [...(process.env.BENCH_CHILD_FLAGS ? process.env.BENCH_CHILD_FLAGS.split(' ') : []), 'bin/bird-confd.js', 'watch', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let listAt = 0;
  let cpuAtList = 0;
  let cpuAtApply = 0;
  try {
    const appliedAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no apply within 120 s:\n${out.slice(-2000)}`)), 120_000);
      const onLine = (line: string) => {
        const log = /^\{/.test(line) ? (JSON.parse(line) as { msg?: string; time?: number }) : {};
        // The sources start their first list right after "starting".
        if (log.msg === 'starting') [listAt, cpuAtList] = [log.time ?? Date.now(), cpuMs(child.pid!)];
        if (process.env.BENCH_COLD_LOG) process.stderr.write(`+${(log.time ?? Date.now()) - listAt} ms ${line.slice(0, 160)}\n`);
        // A check that found no BIRD to ask applies unchecked: not the figure wanted.
        if (/no BIRD answers/.test(log.msg ?? '')) reject(new Error(`the running BIRD did not answer the check: ${line}`));
        if (log.msg === 'applied a new file set') {
          cpuAtApply = cpuMs(child.pid!);
          clearTimeout(timer);
          resolve(log.time ?? Date.now());
        }
      };
      // The log is JSON lines (on stderr); either stream is read line by line.
      for (const stream of [child.stdout, child.stderr]) {
        let partial = '';
        stream.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          const lines = (partial + c).split('\n');
          partial = lines.pop()!;
          lines.forEach(onLine);
        });
      }
      child.once('exit', (code) => reject(new Error(`watch exited (${code}) before applying:\n${out.slice(-2000)}`)));
    });
    // The peak of this very process, after its first apply (not a stand-in, not after a GC).
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return { fromStartMs: appliedAt - started, fromListMs: appliedAt - listAt, cpuFromListMs: cpuAtApply - cpuAtList, peakMiB: Math.round(Number(hwm?.[1] ?? NaN) / 1024) };
  } finally {
    child.kill('SIGTERM');
  }
}

/** Cold starts of a watch daemon on a generated cluster (the route-reflector shape has 10,000 Services). */
export async function daemonColdStart(size: number, shape: Shape, runs: number, services?: number): Promise<ColdStart> {
  const bird = calicoBird();
  if ('missing' in bird) return { skipped: bird.missing };
  let etcd: TestEtcd;
  try {
    etcd = await TestEtcd.start();
  } catch (err) {
    return { skipped: `etcd did not start: ${(err as Error).message}` };
  }
  const kube = new FakeKubeApi();
  const dir = mkdtempSync(join(tmpdir(), 'bird-confd-bench-cold-'));
  const client = etcd.client();
  const stops: (() => void)[] = [];
  try {
    await kube.start();
    kube.writeKubeconfig(join(dir, 'kubeconfig'));
    const birds = await runningBirds(bird, dir);
    stops.push(birds.stop);
    const node = nodeName(7);
    const docs = generateDocuments(size, shape, 1, services) as Doc[];
    await loadCluster(client, kube, docs, node);
    // A running API server answers lists from its watch cache: each list the daemon asks for is
    // made once before the runs, so that serializing it (in this process, on the same cores) is not
    // timed as the daemon's.
    const namespace = 'kube-system';
    // What a `watch` beside etcd follows in the Kubernetes API (Calico v3.32, the default: EndpointSlices).
    for (const { path } of followedCollections({ namespace, calicoResources: false, endpoints: 'EndpointSlice' })) await (await fetch(`http://127.0.0.1:${kube.port}${path}`)).arrayBuffer();
    const env = { PATH: process.env.PATH ?? '', ETCD_ENDPOINTS: etcd.endpoint, KUBECONFIG: join(dir, 'kubeconfig'), NAMESPACE: namespace };
    const samples: Awaited<ReturnType<typeof oneRun>>[] = [];
    for (let i = 0; i < runs; i++) {
      const out = join(dir, `out-${i}`);
      // The check as deployed (the running BIRDs, over their sockets); no reload, nothing else touched.
      const args = ['--datastore', 'etcdv3', '--node', node, '--out', out, '--socket', birds.sockets[0], '--socket6', birds.sockets[1], '--check', 'socket', '--no-reload', '--drift-interval', '0'];
      samples.push(await oneRun(env, args));
    }
    const mid = (k: keyof (typeof samples)[number]) => samples.map((s) => s[k]).sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
    return { nodes: size, shape, services: docs.filter((d) => d.kind === 'Service').length, fromStartMs: mid('fromStartMs'), fromListMs: mid('fromListMs'), cpuFromListMs: mid('cpuFromListMs'), peakMiB: mid('peakMiB'), runs };
  } finally {
    stops.forEach((stop) => stop());
    client.close();
    await kube.close();
    await etcd.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
