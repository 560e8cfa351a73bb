import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { documentToResource, snapshotOf } from '../src/model/load.js';
import type { Resource } from '../src/model/resources.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import type { BGPFilter } from '../src/model/bgp-filter.js';
import type { EndpointSlice } from '../src/model/k8s-endpoint-slice.js';
import { createKubernetesSource } from '../src/watch/kube-source.js';
import type { SourceEvent } from '../src/watch/source.js';
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
  bgpfilters: ['BGPFilter', 'crd.projectcalico.org/v1'], endpointslices: ['EndpointSlice', 'discovery.k8s.io/v1'],
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
  return renderNodeWithTemplates(snapshotOf(resources), 'a').files!;
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

/** Whether deploy/rbac.yaml lets the ServiceAccount list and watch an API path (`/apis/<group>/<v>/[namespaces/<ns>/]<resource>`). */
function rbacAllows(path: string): boolean {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([a-z]+)$/.exec(path);
  if (!m) return false;
  const [, group = '', namespace, resource] = m;
  type Role = { kind: string; metadata: { namespace?: string }; rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  const roles = parseAllDocuments(readFileSync(join('deploy', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as Role).filter((d) => d?.kind === 'ClusterRole' || d?.kind === 'Role');
  return roles.some((r) => (r.kind === 'ClusterRole' || r.metadata.namespace === namespace) &&
    r.rules.some((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource!) && ['list', 'watch'].every((v) => rule.verbs.includes(v))));
}

describe('Kubernetes source: kinds added for Calico v3.32', () => {
  test('BGPFilters and EndpointSlices of every namespace arrive, change and go; v1 Endpoints still do', async () => {
    api.set('bgpfilters', { metadata: { name: 'f1' }, spec: { importV4: [{ action: 'Accept', matchOperator: 'In', cidr: '44.0.0.0/16' }] } });
    const slice = (name: string, namespace: string, ready: boolean) => ({ metadata: { name, namespace, labels: { 'kubernetes.io/service-name': 'svc' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'a', conditions: { ready } }] });
    api.set('endpointslices', slice('svc-abc', 'default', true));
    api.set('endpointslices', slice('svc-abc', 'other', true));
    api.set('endpoints', { metadata: { name: 'svc', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.5', nodeName: 'a' }] }] });
    const kubeconfig = join(work, 'kubeconfig-source');
    api.writeKubeconfig(kubeconfig);
    const events: SourceEvent[] = [];
    const source = createKubernetesSource({ kubeconfig, namespace: 'kube-system', nodeName: 'a', calicoResources: true, backoff: () => 200 });
    await source.start((e) => events.push(e));
    const upserts = (kind: string) => events.flatMap((e) => (e.type === 'upsert' && e.resource.kind === kind ? [e.resource] : []));
    try {
      await until('the first list', () => events.some((e) => e.type === 'synced'));
      assert.deepEqual((upserts('BGPFilter') as BGPFilter[]).map((f) => [f.metadata.name, f.spec.importV4[0]!.cidr]), [['f1', '44.0.0.0/16']]);
      assert.deepEqual((upserts('EndpointSlice') as EndpointSlice[]).map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort(), ['default/svc-abc', 'other/svc-abc']);
      assert.ok(upserts('Endpoints').some((e) => e.metadata.name === 'svc'), 'v1 Endpoints are still read');
      // Changes through the watch: a slice turns not ready, a filter is added, one slice goes.
      api.set('endpointslices', slice('svc-abc', 'other', false));
      api.set('bgpfilters', { metadata: { name: 'f2' }, spec: { exportV6: [{ action: 'Reject', peerType: 'eBGP' }] } });
      api.delete('endpointslices', 'svc-abc', 'default');
      await until('the watched changes', () =>
        (upserts('EndpointSlice') as EndpointSlice[]).some((s) => s.metadata.namespace === 'other' && s.endpoints[0]!.conditions.ready === false) &&
        upserts('BGPFilter').some((f) => f.metadata.name === 'f2') &&
        events.some((e) => e.type === 'delete' && e.id.kind === 'EndpointSlice' && e.id.namespace === 'default' && e.id.name === 'svc-abc'));
      // A slice with a bad address is a problem naming object and field.
      api.set('endpointslices', { ...slice('bad', 'default', true), endpoints: [{ addresses: ['fe80::1%eth0'] }] });
      await until('the refused slice', () => events.some((e) => e.type === 'problem' && e.diagnostic.object === 'EndpointSlice/default/bad' && e.diagnostic.field === 'endpoints[0].addresses[0]'));
      // Everything the source asked the API server for, deploy/rbac.yaml grants list and watch on.
      for (const path of api.requestedPaths) assert.ok(rbacAllows(path), `deploy/rbac.yaml does not grant list and watch on ${path}`);
    } finally {
      await source.stop();
    }
  });
});
