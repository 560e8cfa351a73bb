import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Daemon } from '../src/watch/daemon.js';
import { createEtcdSource } from '../src/watch/etcd-source.js';
import { TestEtcd } from '../test/helpers/etcd.js';
import { nodeName, nodeV4 } from './generate.js';

/**
 * etcd put to files in place: a real etcd holding `size` Calico nodes, the daemon in this process
 * (debounce 0, no check, no reload) for one node; each change is a BGPPeer for that node, timed
 * from the put until the new file set is in place.
 */
export async function etcdLatency(size: number, changes: number): Promise<{ p50: number; p99: number; n: number; putP50: number; putP99: number } | { skipped: string }> {
  let etcd: TestEtcd;
  try {
    etcd = await TestEtcd.start();
  } catch (err) {
    return { skipped: `etcd did not start: ${(err as Error).message}` };
  }
  const out = mkdtempSync(join(tmpdir(), 'bird-confd-bench-etcd-'));
  const client = etcd.client();
  const node = nodeName(7);
  const res = (plural: string, name: string) => `/calico/resources/v3/projectcalico.org/${plural}/${name}`;
  let daemon: Daemon | null = null;
  try {
    await client.put(res('bgpconfigurations', 'default')).value(JSON.stringify({ spec: { nodeToNodeMeshEnabled: false, asNumber: 64512 } }));
    for (let start = 0; start < size; start += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, size - start) }, (_, j) => {
          const i = start + j;
          return client.put(res('nodes', nodeName(i))).value(JSON.stringify({ metadata: { labels: { rack: `r${Math.floor(i / 40)}` } }, spec: { bgp: { ipv4Address: `${nodeV4(i)}/16` } } }));
        }),
      );
    }
    daemon = new Daemon({
      node,
      out,
      sources: [createEtcdSource({ endpoints: [etcd.endpoint], nodeName: node })],
      render: {},
      debounceMs: 0,
      checks: new Map(),
      reload: null,
      logger: pino({ level: 'silent' }),
    });
    await daemon.start();
    await daemon.firstRun;
    const samples: number[] = [];
    // How long etcd itself takes to acknowledge a put (its write-ahead log is synced to disk).
    const puts: number[] = [];
    for (let i = 0; i < changes; i++) {
      const before = daemon.state.applies;
      const t = performance.now();
      await client.put(res('bgppeers', `bench-${i}`)).value(JSON.stringify({ spec: { node, peerIP: `192.0.${2 + Math.floor(i / 250)}.${(i % 250) + 1}`, asNumber: 65100 } }));
      puts.push(performance.now() - t);
      while (daemon.state.applies === before) await new Promise((r) => setImmediate(r));
      samples.push(performance.now() - t);
    }
    const at = (xs: number[], q: number) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
    };
    return { p50: at(samples, 0.5), p99: at(samples, 0.99), n: samples.length, putP50: at(puts, 0.5), putP99: at(puts, 0.99) };
  } finally {
    await daemon?.stop();
    client.close();
    await etcd.close();
    rmSync(out, { recursive: true, force: true });
  }
}
