import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { documentToResource } from '../src/model/load.js';
import { snapshotOf } from '../src/model/load.js';
import type { Resource } from '../src/model/resources.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import type { BGPFilter } from '../src/model/bgp-filter.js';
import { createEtcdSource, etcdDocument, etcdPrefixes } from '../src/watch/etcd-source.js';
import type { SourceEvent } from '../src/watch/source.js';
import { TestEtcd } from './helpers/etcd.js';
import { filesIn, sameFiles, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-etcdw-'));
let etcd: TestEtcd;
let client: Etcd3;
let w: WatchProcess | null = null;
before(async () => {
  etcd = await TestEtcd.start();
  client = etcd.client();
});
after(async () => {
  await w?.stop();
  client?.close();
  await etcd?.close();
  rmSync(work, { recursive: true, force: true });
});

const res = (plural: string, name: string) => `/calico/resources/v3/projectcalico.org/${plural}/${name}`;
const put = (key: string, value: unknown) => client.put(key).value(JSON.stringify(value));

/** What render gives for the etcd content now (read back and converted the same way). */
async function expectedFromEtcd(): Promise<Map<string, string>> {
  const all = await client.getAll().prefix('/calico/').strings();
  const resources: Resource[] = [];
  for (const [key, value] of Object.entries(all)) {
    const doc = etcdDocument(key, value, 'a');
    const r = doc ? documentToResource(doc) : null;
    if (r?.resource) resources.push(r.resource);
  }
  return renderNodeWithTemplates(snapshotOf(resources), 'a').files!;
}

describe('what the etcd source follows', () => {
  test('the prefixes of the kinds it reads and its own blocks, never the whole resource tree', () => {
    const prefixes = etcdPrefixes('a');
    const covered = (key: string) => prefixes.some((p) => key.startsWith(p));
    for (const plural of ['bgpconfigurations', 'bgppeers', 'nodes', 'ippools', 'felixconfigurations', 'bgpfilters']) {
      assert.ok(covered(res(plural, 'x')), plural);
      assert.ok(etcdDocument(res(plural, 'x'), '{}', 'a'), plural);
    }
    assert.ok(covered('/calico/ipam/v2/host/a/ipv4/block/10.244.1.0-26'));
    // A pod's WorkloadEndpoint, policies, profiles and other nodes' blocks: a large cluster has
    // tens of thousands, and no node's routing depends on them.
    for (const key of [res('workloadendpoints', 'ns/node--a-k8s-pod-eth0'), res('networkpolicies', 'ns/p'), res('profiles', 'kns.default'), '/calico/ipam/v2/host/b/ipv4/block/10.244.2.0-26', '/calico/ipam/v2/host/ab/ipv4/block/10.244.3.0-26']) {
      assert.ok(!covered(key), key);
    }
  });
});

describe('watch --datastore etcdv3 against a real etcd', () => {
  test('converges to render of the etcd state through changes, an etcd restart and a compaction', async () => {
    await put(res('bgpconfigurations', 'default'), { spec: { nodeToNodeMeshEnabled: true, asNumber: 64512 } });
    await put(res('nodes', 'a'), { metadata: { labels: { rack: 'r1' } }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } });
    await put(res('nodes', 'b'), { spec: { bgp: { ipv4Address: '10.0.0.2/24' } } });
    await client.put('/calico/ipam/v2/host/a/ipv4/block/10.244.1.0-26').value('{"state":"confirmed"}');
    await client.put('/calico/ipam/v2/host/b/ipv4/block/10.244.2.0-26').value('{}');
    const out = join(work, 'out');
    // --no-check: this is about the etcd datastore, and runs also where Calico's BIRD is not built.
    w = startWatch(['--datastore', 'etcdv3', '--node', 'a', '--out', out, '--debounce', '0', '--no-reload', '--no-check'], { ETCD_ENDPOINTS: etcd.endpoint });
    const converged = async (what: string) => {
      const want = await expectedFromEtcd();
      await until(what, () => sameFiles(filesIn(out), want), 20_000).catch((err: Error) => {
        throw new Error(`${err.message}\n--- watch output (tail) ---\n${w!.output().split('\n').filter((l) => !l.includes('ECONNREFUSED')).slice(-15).join('\n')}`);
      });
    };
    await converged('first list');
    assert.match(filesIn(out).get('bird_aggr.cfg')!, /10\.244\.1\.0\/26/);
    assert.doesNotMatch(filesIn(out).get('bird_aggr.cfg')!, /10\.244\.2\.0\/26/, "another node's block");

    await put(res('bgppeers', 'tor'), { spec: { peerIP: '192.0.2.1', asNumber: 65001 } });
    await converged('a BGPPeer added');
    assert.match(filesIn(out).get('bird.cfg')!, /Global_192_0_2_1/);

    // etcd dies and comes back: the files stay meanwhile, then follow new changes.
    await etcd.kill();
    const during = filesIn(out);
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(sameFiles(filesIn(out), during), 'files changed while etcd was down');
    await etcd.launch();
    await put(res('nodes', 'b'), { spec: { bgp: { ipv4Address: '10.0.0.3/24' } } });
    await converged('a change after the restart');

    // Compaction while the watcher is away: freeze the daemon, break its stream (restart etcd),
    // delete the BGPPeer and compact; when the daemon resumes, its revision is gone: it lists again.
    w.child.kill('SIGSTOP');
    await etcd.kill();
    await etcd.launch();
    client.close();
    client = etcd.client();
    await client.delete().key(res('bgppeers', 'tor'));
    await put(res('nodes', 'b'), { spec: { bgp: { ipv4Address: '10.0.0.4/24' } } });
    const rev = (await client.get('x').exec()).header.revision;
    await client.kv.compact({ revision: rev, physical: true });
    w.child.kill('SIGCONT');
    await converged('the state after a compaction');
    assert.doesNotMatch(filesIn(out).get('bird.cfg')!, /Global_192_0_2_1/);
    assert.match(w.output(), /watch canceled \(compacted history/, 'the watch did not see the compaction');
    assert.ok((w.output().match(/source synced/g) ?? []).length >= 2, 'no second list after the compaction');
  });
});

describe('etcd source: kinds added for Calico v3.32', () => {
  test('BGPFilters are listed, watched, refused with object and field, and deleted', async () => {
    await put(res('bgpfilters', 'f1'), { metadata: { name: 'f1' }, spec: { importV4: [{ action: 'Accept', matchOperator: 'In', cidr: '44.0.0.0/16' }] } });
    const events: SourceEvent[] = [];
    const source = createEtcdSource({ endpoints: [etcd.endpoint], nodeName: 'a', backoff: () => 200 });
    await source.start((e) => events.push(e));
    const filter = (name: string) => events.flatMap((e) => (e.type === 'upsert' && e.resource.kind === 'BGPFilter' && e.resource.metadata.name === name ? [e.resource as BGPFilter] : []));
    try {
      await until('the first list', () => events.some((e) => e.type === 'synced'));
      assert.deepEqual(filter('f1').map((f) => f.spec.importV4.map((r) => [r.action, r.matchOperator, r.cidr])), [[['Accept', 'In', '44.0.0.0/16']]]);
      // A change after the list arrives through the watch.
      await put(res('bgpfilters', 'f2'), { spec: { exportV6: [{ action: 'Reject', interface: '*.calico', peerType: 'iBGP' }] } });
      await until('a watched BGPFilter', () => filter('f2').length === 1);
      assert.deepEqual(filter('f2')[0]!.spec.exportV6[0]!.interface, '*.calico');
      // A filter BIRD could misread is a problem naming object and field; nothing is upserted.
      await put(res('bgpfilters', 'f3'), { spec: { importV4: [{ action: 'Accept' }, { action: 'Accept', interface: 'eth0"; accept; #' }] } });
      await until('the refused filter', () => events.some((e) => e.type === 'problem' && e.diagnostic.object === 'BGPFilter/f3'));
      const problem = events.find((e) => e.type === 'problem' && e.diagnostic.object === 'BGPFilter/f3');
      assert.equal(problem?.type === 'problem' && problem.diagnostic.field, 'spec.importV4[1].interface');
      assert.equal(filter('f3').length, 0);
      await client.delete().key(res('bgpfilters', 'f1'));
      await until('the delete', () => events.some((e) => e.type === 'delete' && e.id.kind === 'BGPFilter' && e.id.name === 'f1'));
    } finally {
      await source.stop();
    }
  });
});
