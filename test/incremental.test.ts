/**
 * Incremental recompute must be invisible: after any sequence of changes, the facts patched
 * change by change (snapshot sorted lists and change log, node list, mesh entries and owners,
 * service index) render exactly what facts built from scratch render, for every node.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { documentToResource } from '../src/model/load.js';
import type { Resource } from '../src/model/resources.js';
import { Snapshot, UNCHANGED } from '../src/model/snapshot.js';
import { clusterFacts, computeNodeView, RenderStore } from '../src/render/index.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';

const v3 = 'projectcalico.org/v3';
const names = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];

function res(obj: Record<string, unknown>): Resource {
  const r = documentToResource(obj);
  if (!r.resource) throw new Error(JSON.stringify(r.diagnostics));
  return r.resource;
}

/** One change to the cluster; addresses come from a small pool so that nodes collide now and then. */
const change = fc.oneof(
  fc.record({ op: fc.constant('node' as const), node: fc.constantFrom(...names), v4: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }), v6: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }), as: fc.option(fc.constantFrom('64512', '65001'), { nil: undefined }), rr: fc.boolean() }),
  fc.record({ op: fc.constant('delete-node' as const), node: fc.constantFrom(...names) }),
  fc.record({ op: fc.constant('kube-node' as const), node: fc.constantFrom(...names), v4: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }) }),
  fc.record({ op: fc.constant('delete-kube-node' as const), node: fc.constantFrom(...names) }),
  fc.record({ op: fc.constant('config' as const), mesh: fc.boolean(), port: fc.option(fc.constantFrom(179, 1790), { nil: undefined }) }),
  fc.record({ op: fc.constant('node-config' as const), node: fc.constantFrom(...names), port: fc.constantFrom(1790, 1791) }),
  fc.record({ op: fc.constant('peer' as const), name: fc.constantFrom('p0', 'p1'), ip: fc.integer({ min: 1, max: 5 }), selector: fc.boolean() }),
  fc.record({ op: fc.constant('delete-peer' as const), name: fc.constantFrom('p0', 'p1') }),
  fc.record({ op: fc.constant('block' as const), node: fc.constantFrom(...names), block: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('service' as const), svc: fc.constantFrom('s0', 's1', 's2'), ip: fc.integer({ min: 1, max: 3 }), local: fc.boolean() }),
  fc.record({ op: fc.constant('delete-service' as const), svc: fc.constantFrom('s0', 's1', 's2') }),
  fc.record({ op: fc.constant('endpoints' as const), svc: fc.constantFrom('s0', 's1', 's2'), nodes: fc.subarray(names) }),
  fc.record({ op: fc.constant('delete-endpoints' as const), svc: fc.constantFrom('s0', 's1', 's2') }),
);
type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

function applyChange(s: Snapshot, c: Change): void {
  const del = (kind: Resource['kind'], name: string, namespace = '') => s.delete({ kind, name, namespace });
  switch (c.op) {
    case 'node': {
      const bgp: Record<string, unknown> = {};
      if (c.v4 !== undefined) bgp.ipv4Address = `10.0.0.${c.v4}/24`;
      if (c.v6 !== undefined) bgp.ipv6Address = `fd00::${c.v6}/64`;
      if (c.as) bgp.asNumber = Number(c.as);
      if (c.rr) bgp.routeReflectorClusterID = '224.0.0.1';
      s.apply(res({ apiVersion: v3, kind: 'Node', metadata: { name: c.node, labels: { rr: String(c.rr) } }, spec: { bgp } }));
      return;
    }
    case 'delete-node':
      del('Node', c.node);
      return;
    case 'kube-node': {
      const annotations: Record<string, string> = {};
      if (c.v4 !== undefined) annotations['projectcalico.org/IPv4Address'] = `10.0.0.${c.v4}/24`;
      s.apply(res({ apiVersion: 'v1', kind: 'Node', metadata: { name: c.node, annotations } }));
      return;
    }
    case 'delete-kube-node':
      del('KubeNode', c.node);
      return;
    case 'config':
      s.apply(res({ apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: c.mesh, listenPort: c.port, serviceClusterIPs: [{ cidr: '10.96.0.0/16' }] } }));
      return;
    case 'node-config':
      s.apply(res({ apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: `node.${c.node}` }, spec: { listenPort: c.port } }));
      return;
    case 'peer':
      s.apply(res({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: c.name }, spec: c.selector ? { nodeSelector: 'all()', peerSelector: "rr == 'true'" } : { peerIP: `192.0.2.${c.ip}`, asNumber: 65100 } }));
      return;
    case 'delete-peer':
      del('BGPPeer', c.name);
      return;
    case 'block':
      s.apply(res({ apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: `${c.node}-b${c.block}` }, spec: { node: c.node, cidr: `10.244.${c.block}.0/26`, state: 'confirmed', deleted: 'false' } }));
      return;
    case 'service':
      s.apply(res({ apiVersion: 'v1', kind: 'Service', metadata: { name: c.svc, namespace: 'default' }, spec: { type: 'NodePort', clusterIP: `10.96.0.${c.ip}`, externalTrafficPolicy: c.local ? 'Local' : 'Cluster', ports: [{ port: 80 }] } }));
      return;
    case 'delete-service':
      del('Service', c.svc, 'default');
      return;
    case 'endpoints':
      s.apply(res({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: c.svc, namespace: 'default' }, subsets: [{ addresses: c.nodes.map((n, i) => ({ ip: `10.244.9.${i + 1}`, nodeName: n })) }] }));
      return;
    case 'delete-endpoints':
      del('Endpoints', c.svc, 'default');
      return;
  }
}

/** Every node's files and diagnostics, rendered with the given store. */
function renderAll(s: Snapshot, store: RenderStore): string {
  return names
    .map((n) => {
      const r = renderNodeWithTemplates(s, n, {}, store);
      return `${n}: ${JSON.stringify(r.diagnostics)}\n${r.files ? [...r.files].map(([f, t]) => `== ${f}\n${t}`).join('') : 'none'}`;
    })
    .join('\n');
}

describe('incremental recompute', () => {
  test('patched facts render exactly what fresh facts render, after every change of a random sequence', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 25 }), (changes) => {
        const s = new Snapshot();
        // A cluster to start from: service ranges, three nodes, a Local service with endpoints.
        const start: Change[] = [
          { op: 'config', mesh: true, port: undefined },
          { op: 'node', node: 'n0', v4: 1, v6: 1, as: undefined, rr: false },
          { op: 'node', node: 'n1', v4: 2, v6: undefined, as: undefined, rr: true },
          { op: 'node', node: 'n2', v4: 3, v6: 3, as: '65001', rr: false },
          { op: 'service', svc: 's0', ip: 1, local: true },
          { op: 'endpoints', svc: 's0', nodes: ['n0', 'n2'] },
        ];
        for (const c of start) applyChange(s, c);
        const store = new RenderStore();
        const oneShot = new RenderStore({ rendersEveryNode: true });
        clusterFacts(s, {}, store);
        for (const c of changes) {
          applyChange(s, c);
          // The reference: a copy of the snapshot (no history) rendered with a new, empty store, so
          // no derived value of the incremental store can reach it.
          const fresh = s.clone();
          const reference = renderAll(fresh, new RenderStore());
          assert.equal(renderAll(s, store), reference, `after ${JSON.stringify(c)}`);
          // A store that keeps no node's views (render --all-nodes) renders the same.
          assert.equal(renderAll(s, oneShot), reference, `one-shot store, after ${JSON.stringify(c)}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a large mesh re-rendered after changes (chunked peer text, mesh memo) equals a cold render', () => {
    const s = new Snapshot();
    const node = (i: number, ip = i) => res({ apiVersion: v3, kind: 'Node', metadata: { name: `m${String(i).padStart(3, '0')}` }, spec: { bgp: { ipv4Address: `10.1.${Math.floor(ip / 250)}.${(ip % 250) + 1}/16` } } });
    for (let i = 0; i < 300; i++) s.apply(node(i));
    const store = new RenderStore();
    const changes: (() => void)[] = [
      () => s.apply(node(5, 900)),
      () => s.apply(node(200, 901)),
      () => s.delete({ kind: 'Node', name: 'm100', namespace: '' }),
      () => s.apply(node(400)),
      () => s.apply(res({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '192.0.2.1', asNumber: 65100 } })),
      () => s.apply(node(7, 5)),
    ];
    for (const [i, change] of [() => undefined, ...changes].entries()) {
      change();
      for (const name of ['m000', 'm007', 'm150', 'm299']) {
        const warm = renderNodeWithTemplates(s, name, {}, store);
        // A new store: no cached facts, views or peer text.
        const cold = renderNodeWithTemplates(s.clone(), name, {}, new RenderStore());
        assert.ok(warm.files && cold.files);
        assert.deepEqual([...warm.files], [...cold.files], `step ${i}, node ${name}`);
        assert.equal((warm.files.get('bird.cfg')!.match(/^protocol bgp Mesh_/gm) ?? []).length, s.count('Node') - 1, `step ${i}, node ${name}: one session per other node`);
      }
    }
  });

  test('a store for rendering each node once keeps no node\'s peer views or texts; the daemon\'s store does', () => {
    const s = new Snapshot();
    for (const [i, name] of ['r0', 'r1', 'r2', 'c0'].entries()) {
      s.apply(res({ apiVersion: v3, kind: 'Node', metadata: { name, labels: name.startsWith('r') ? { rr: 'yes' } : {} }, spec: { bgp: { ipv4Address: `10.2.0.${i + 1}/24`, ...(name.startsWith('r') ? { routeReflectorClusterID: '224.0.0.1' } : {}) } } }));
    }
    s.apply(res({ apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } }));
    s.apply(res({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'to-rr' }, spec: { peerSelector: 'has(rr)' } }));
    const sessions = (store: RenderStore, node: string) => computeNodeView(s, node, {}, store).view!.ipv4.sessions;
    const keeping = new RenderStore();
    const first = sessions(keeping, 'r0');
    assert.equal(first.length, 3);
    assert.ok(sessions(keeping, 'r0').every((p, i) => p === first[i]), 'the daemon\'s store hands the same views back');
    const once = new RenderStore({ rendersEveryNode: true });
    const a = sessions(once, 'r0');
    const b = sessions(once, 'r0');
    assert.deepEqual(b, a);
    assert.ok(a.every((p, i) => p !== b[i]), 'a one-shot store keeps no view to hand back');
    // What nodes share is kept: both reflectors' views of r2 share its name and statements before the neighbor line.
    const r1 = sessions(once, 'r1').find((p) => p.peerIp === '10.2.0.3')!;
    const r0 = a.find((p) => p.peerIp === '10.2.0.3')!;
    assert.notEqual(r0, r1);
    assert.equal(r0.before, r1.before);
    assert.notDeepEqual(r0.options, r1.options, 'the source address differs');
  });

  test('the snapshot keeps lists sorted through changes and says which keys changed since a revision', () => {
    const s = new Snapshot();
    const svc = (name: string, ns = 'default') => res({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP: '10.96.0.1' } });
    s.apply(svc('b'));
    s.apply(svc('d'));
    assert.deepEqual(s.list('Service').map((r) => r.metadata.name), ['b', 'd']);
    const before = s.list('Service');
    const rev = s.kindRevision('Service');
    s.apply(svc('a'));
    s.apply(svc('c'));
    s.delete({ kind: 'Service', name: 'd', namespace: 'default' });
    assert.deepEqual(s.list('Service').map((r) => r.metadata.name), ['a', 'b', 'c']);
    assert.deepEqual(before.map((r) => r.metadata.name), ['b', 'd'], 'a list handed out earlier does not change');
    assert.deepEqual(s.changedSince('Service', rev)?.sort(), ['default/a', 'default/c', 'default/d']);
    assert.deepEqual(s.changedSince('Service', s.kindRevision('Service')), []);
    for (let i = 0; i < 3000; i++) s.apply(svc(`x${i}`));
    assert.equal(s.changedSince('Service', rev), null, 'a log that no longer reaches back says so');
    assert.equal(s.clone().changedSince('Service', s.kindRevision('Service') - 1), null, 'a clone has no history');
  });

  test('put and take say what they replaced or removed (what a source reports as a change)', () => {
    const s = new Snapshot();
    const svc = (ip: string) => res({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { clusterIP: ip } });
    const first = svc('10.96.0.1');
    assert.equal(s.put(first), null, 'nothing was there');
    assert.equal(s.put(svc('10.96.0.1')), UNCHANGED, 'an equal object changes nothing');
    const revision = s.revision;
    const second = svc('10.96.0.2');
    assert.equal(s.put(second), first, 'the replaced resource');
    assert.ok(s.revision > revision);
    assert.equal(s.take({ kind: 'Service', name: 's', namespace: 'default' }), second, 'the removed resource');
    assert.equal(s.take({ kind: 'Service', name: 's', namespace: 'default' }), null, 'nothing left to remove');
    assert.deepEqual(s.list('Service'), []);
  });
});
