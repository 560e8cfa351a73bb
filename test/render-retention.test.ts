/**
 * What rendering keeps between changes, where the daemon's latency depends on it: a node view's
 * lazily built Windows part is read through one getter shared by all views (not a closure per
 * view over the node's context), and the store keeps values derived from a whole node list or
 * mesh for the latest list only (not in a WeakMap, whose values V8's young-generation collector
 * holds strongly). The benchmark's incremental figures are where the effect shows; these hold the
 * shapes that give it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { documentToResource } from '../src/model/load.js';
import type { Resource } from '../src/model/resources.js';
import { clusterFacts, computeNodeView, RenderStore } from '../src/render/index.js';
import type { CalicoVersion } from '../src/render/profiles.js';
import { Latest } from '../src/render/store.js';
import { snap, y } from './helpers/snap.js';

const cluster =
  y.node('a', '{ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64"}', '{rack: r1}') +
  y.node('b', '{ipv4Address: 10.0.0.2/24, ipv6Address: "fd00::2/64"}', '{rack: r1}') +
  y.node('c', '{ipv4Address: 10.0.0.3/24}', '{rack: r2}') +
  y.peer('rack-tor', '{nodeSelector: "rack == \'r1\'", peerIP: 10.0.0.254, asNumber: 65001}') +
  y.pool('pool-v4', '{cidr: 10.244.0.0/16}');

function res(obj: Record<string, unknown>): Resource {
  const r = documentToResource(obj);
  if (!r.resource) throw new Error(JSON.stringify(r.diagnostics));
  return r.resource;
}

/** Node `c` moved to another address. */
const moved = () => res({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'c', labels: { rack: 'r2' } }, spec: { bgp: { ipv4Address: '10.0.0.33/24' } } });

describe('a view\'s Windows part', () => {
  for (const calicoVersion of ['3.17', '3.32'] as CalicoVersion[]) {
    test(`Calico ${calicoVersion}: one getter for every view, enumerable, made once when read`, () => {
      const snapshot = snap(cluster);
      const store = new RenderStore();
      const views = ['a', 'b', 'a'].map((n) => computeNodeView(snapshot, n, { calicoVersion }, store).view!);
      const getters = views.map((v) => Object.getOwnPropertyDescriptor(v, 'windows'));
      for (const d of getters) {
        assert.equal(typeof d?.get, 'function', 'windows is read through a getter');
        assert.equal(d?.enumerable, true, 'windows is enumerable, as a plain field');
      }
      assert.ok(getters.every((d) => d!.get === getters[0]!.get), 'every view shares one getter function');
      const first = views[0]!.windows;
      assert.equal(views[0]!.windows, first, 'made once, then kept');
      assert.ok(Object.keys(views[1]!).includes('windows'));
      assert.deepEqual(JSON.parse(JSON.stringify(views[0])).windows, JSON.parse(JSON.stringify(first)));
      // No function-valued own property: a view carries its context only inside the getter's holder.
      for (const [key, value] of Object.entries(Object.getOwnPropertyDescriptors(views[0]!))) assert.notEqual(typeof value.value, 'function', key);
    });
  }
});

describe('values kept for the latest node list or mesh only', () => {
  test('Latest keeps one key and its value, and forgets the previous one when set again', () => {
    const latest = new Latest<object, string>();
    const k1 = {};
    const k2 = {};
    assert.equal(latest.get(k1), undefined);
    assert.equal(latest.set(k1, 'one'), 'one');
    assert.equal(latest.get(k1), 'one');
    assert.equal(latest.get(k2), undefined);
    latest.set(k2, 'two');
    assert.equal(latest.get(k1), undefined);
    assert.equal(latest.get(k2), 'two');
  });

  test('after a node changes, the daemon\'s store no longer holds the previous mesh\'s peer list or node list\'s BGPPeer sides', () => {
    const snapshot = snap(cluster);
    const store = new RenderStore();
    computeNodeView(snapshot, 'a', { calicoVersion: '3.32' }, store);
    const before = clusterFacts(snapshot, {}, store);
    const entries = before.mesh.ipv4.entries;
    assert.ok(store.meshPeers332[0].get(entries), 'the mesh peer list of this mesh is kept');
    assert.ok(store.peerSides.get(before.nodeList), 'the BGPPeer sides of this node list are kept');
    snapshot.apply(moved());
    computeNodeView(snapshot, 'a', { calicoVersion: '3.32' }, store);
    const after = clusterFacts(snapshot, {}, store);
    assert.notEqual(after.mesh.ipv4.entries, entries, 'a node change makes a new mesh');
    assert.equal(store.meshPeers332[0].get(entries), undefined, 'the previous mesh\'s peer list is dropped');
    assert.ok(store.meshPeers332[0].get(after.mesh.ipv4.entries));
    assert.equal(store.peerSides.get(before.nodeList), undefined, 'the previous node list\'s sides are dropped');
    assert.ok(store.peerSides.get(after.nodeList));
  });

  test('the Calico v3.17 mesh views, and a whole-cluster store\'s label index and memberships, follow the latest lists', () => {
    const snapshot = snap(cluster);
    const daemon = new RenderStore();
    computeNodeView(snapshot, 'a', { calicoVersion: '3.17' }, daemon);
    const entries = clusterFacts(snapshot, {}, daemon).mesh.ipv4.entries;
    assert.ok(daemon.meshViews[0].get(entries));
    const preview = new RenderStore({ rendersEveryNode: true });
    for (const n of ['a', 'b']) computeNodeView(snapshot, n, { calicoVersion: '3.17' }, preview);
    const facts = clusterFacts(snapshot, {}, preview);
    assert.ok(preview.labelIndexes.get(facts.nodeList));
    assert.ok(preview.memberships.get(facts.peers)?.get(facts.nodeList));
    snapshot.apply(moved());
    computeNodeView(snapshot, 'a', { calicoVersion: '3.17' }, daemon);
    computeNodeView(snapshot, 'a', { calicoVersion: '3.17' }, preview);
    assert.equal(daemon.meshViews[0].get(entries), undefined);
    assert.equal(preview.labelIndexes.get(facts.nodeList), undefined);
    assert.equal(preview.memberships.get(facts.peers)?.get(facts.nodeList), undefined);
  });
});
