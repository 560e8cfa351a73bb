import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { documentToResource, snapshotOf } from '../src/model/load.js';
import type { Resource } from '../src/model/resources.js';
import { renderNode } from '../src/render/index.js';
import { FakeKubeApi } from './helpers/fake-kube-api.js';
import { filesIn, sameFiles, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-kube-'));
const api = new FakeKubeApi();
let w: WatchProcess | null = null;
before(() => api.start());
after(async () => {
  await w?.stop();
  await api.close();
  rmSync(work, { recursive: true, force: true });
});

const kinds: Record<string, [string, string]> = {
  nodes: ['Node', 'v1'], services: ['Service', 'v1'], endpoints: ['Endpoints', 'v1'], secrets: ['Secret', 'v1'],
  bgpconfigurations: ['BGPConfiguration', 'crd.projectcalico.org/v1'], bgppeers: ['BGPPeer', 'crd.projectcalico.org/v1'], ippools: ['IPPool', 'crd.projectcalico.org/v1'],
  blockaffinities: ['BlockAffinity', 'crd.projectcalico.org/v1'], felixconfigurations: ['FelixConfiguration', 'crd.projectcalico.org/v1'],
};

/** What render gives for the API server's objects now. */
function expected(): Map<string, string> {
  const resources: Resource[] = [];
  for (const [collection, [kind, apiVersion]] of Object.entries(kinds)) {
    for (const obj of api.objects(collection)) {
      const r = documentToResource({ ...obj, kind, apiVersion });
      if (r.resource) resources.push(r.resource);
    }
  }
  return renderNode(snapshotOf(resources), 'a').files!;
}

const kubeNode = (name: string, ip: string, extra: Record<string, string> = {}) => ({ metadata: { name, labels: { rack: 'r1' }, annotations: { 'projectcalico.org/IPv4Address': `${ip}/24`, ...extra } } });

describe('watch --datastore kubernetes against an in-process API server', () => {
  test('list/watch, changes, a 410 Gone and an API outage all converge to render', async () => {
    api.set('bgpconfigurations', { metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: true } });
    api.set('nodes', kubeNode('a', '10.0.0.1'));
    api.set('nodes', kubeNode('b', '10.0.0.2'));
    api.set('bgppeers', { metadata: { name: 'tor' }, spec: { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.1', asNumber: 65001, password: { secretKeyRef: { name: 'bgp', key: 'tor' } } } });
    api.set('secrets', { metadata: { name: 'bgp', namespace: 'kube-system' }, data: { tor: Buffer.from('fake-kube-pw').toString('base64') } });
    api.set('secrets', { metadata: { name: 'other', namespace: 'default' }, data: { x: 'eA==' } });
    api.set('blockaffinities', { metadata: { name: 'a-blk' }, spec: { node: 'a', cidr: '10.244.1.0/26', state: 'confirmed', deleted: 'false' } });
    const kubeconfig = join(work, 'kubeconfig');
    api.writeKubeconfig(kubeconfig);
    const out = join(work, 'out');
    // --no-check: this is about the Kubernetes datastore, and runs also where Calico's BIRD is not built.
    w = startWatch(['--datastore', 'kubernetes', '--node', 'a', '--out', out, '--debounce', '0', '--no-reload', '--no-check'], { KUBECONFIG: kubeconfig, NAMESPACE: 'kube-system' });
    const converged = (what: string) => until(what, () => sameFiles(filesIn(out), expected()), 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${w!.output().split('\n').slice(-10).join('\n')}`);
    });
    await converged('first list');
    assert.match(filesIn(out).get('bird.cfg')!, /password "fake-kube-pw";/);

    api.set('bgppeers', { metadata: { name: 'tor2' }, spec: { peerIP: '192.0.2.2', asNumber: 65002 } });
    api.set('nodes', kubeNode('b', '10.0.0.3'));
    await converged('a BGPPeer added and a node moved');
    assert.match(filesIn(out).get('bird.cfg')!, /Global_192_0_2_2/);

    // Heartbeat-like annotations change nothing that is rendered: no new apply.
    const applies = () => (w!.output().match(/applied a new file set/g) ?? []).length;
    // Let the log of the last apply arrive (files are swapped before the line is written).
    let settled = -1;
    await until('the apply log settles', async () => {
      const n = applies();
      const stable = n === settled;
      settled = n;
      await new Promise((r) => setTimeout(r, 300));
      return stable;
    });
    const before = applies();
    api.set('nodes', kubeNode('b', '10.0.0.3', { 'example.com/heartbeat': '1' }));
    api.set('secrets', { metadata: { name: 'other', namespace: 'default' }, data: { x: 'eQ==' } });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(applies(), before);

    // 410 Gone: the client was away while tor2 was deleted and history compacted; it must list again.
    api.pause();
    api.disconnectAll();
    api.delete('bgppeers', 'tor2');
    api.compact();
    api.resume();
    await converged('after 410 Gone');
    assert.doesNotMatch(filesIn(out).get('bird.cfg')!, /Global_192_0_2_2/);

    // Outage: the API answers 503; files stay; after recovery the node converges within 10 s.
    const during = filesIn(out);
    api.failWith = 503;
    api.disconnectAll();
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(sameFiles(filesIn(out), during), 'files changed during the outage');
    api.failWith = 0;
    api.set('nodes', kubeNode('b', '10.0.0.4'));
    const t = Date.now();
    await until('converged after the outage', () => sameFiles(filesIn(out), expected()), 10_000);
    assert.ok(Date.now() - t < 10_000);
  });
});
