import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeNodeView, RenderStore, type ViewOptions } from '../src/render/index.js';
import type { NodeView317, PeerView } from '../src/render/view/view-types.js';
import { hashToIPv4 } from '../src/render/addresses.js';
import { snap, y } from './helpers/snap.js';

/** The v3.17 view (this file tests that profile's view; test/view-v332.test.ts the v3.32 one). */
function view(yaml: string, node: string, options: ViewOptions = {}): { view: NodeView317; messages: string[] } {
  const r = computeNodeView(snap(yaml), node, { calicoVersion: '3.17', ...options }, new RenderStore());
  assert.ok(r.view?.calicoVersion === '3.17', `no v3.17 view: ${JSON.stringify(r.diagnostics)}`);
  return { view: r.view, messages: r.diagnostics.map((d) => `${d.severity}: ${d.object ?? ''} ${d.field ?? ''} ${d.message}`) };
}
const active = (peers: readonly PeerView[]) => peers.filter((p) => !p.skip).map((p) => [p.name, p.neighbor, ...p.options].join(' | '));

const three = y.node('a', '{ipv4Address: 10.0.0.9/24}') + y.node('b', '{ipv4Address: 10.0.0.10/24}') + y.node('c', '{ipv4Address: 10.0.0.11/24}');

describe('node-to-node mesh', () => {
  test('passive side is decided by text order of the addresses (Calico rule), one side per pair', () => {
    const a = view(three, 'a').view.ipv4.bgp!.mesh.peers;
    const b = view(three, 'b').view.ipv4.bgp!.mesh.peers;
    // "10.0.0.10" < "10.0.0.9" as text: a (…9) is passive towards nobody, b is passive towards a.
    assert.deepEqual(active(a), ['Mesh_10_0_0_10 | neighbor 10.0.0.10 as 64512;', 'Mesh_10_0_0_11 | neighbor 10.0.0.11 as 64512;']);
    assert.deepEqual(active(b), ['Mesh_10_0_0_9 | neighbor 10.0.0.9 as 64512; | passive on;', 'Mesh_10_0_0_11 | neighbor 10.0.0.11 as 64512; | passive on;']);
  });
  test('mesh uses the remote node port (node-specific first) and AS', () => {
    const yaml = y.config('{listenPort: 1790}') + y.config('{listenPort: 1791}', 'node.b') + y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', '{ipv4Address: 10.0.0.2/24, asNumber: 65001}') + y.node('c', '{ipv4Address: 10.0.0.3/24}');
    const { view: v } = view(yaml, 'a');
    assert.deepEqual(active(v.ipv4.bgp!.mesh.peers), ['Mesh_10_0_0_2 | neighbor 10.0.0.2 port 1791 as 65001; | passive on;', 'Mesh_10_0_0_3 | neighbor 10.0.0.3 port 1790 as 64512; | passive on;']);
    assert.deepEqual(v.listenPort, { port: 1790, scope: 'global' });
    assert.deepEqual(view(yaml, 'b').view.listenPort, { port: 1791, scope: 'node' });
  });
  test('mesh disabled, and the IPv6 mesh of a route reflector (kept Calico quirk)', () => {
    const rr = y.node('r', '{ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64", routeReflectorClusterID: 1.1.1.1}') + y.node('n', '{ipv4Address: 10.0.0.2/24, ipv6Address: "fd00::2/64"}');
    const v = view(rr, 'r').view;
    assert.equal(v.ipv4.bgp!.mesh.state, 'enabled');
    assert.equal(v.ipv6.bgp!.mesh.state, 'route-reflector');
    assert.equal(view(y.config('{nodeToNodeMeshEnabled: false}') + rr, 'n').view.ipv4.bgp!.mesh.state, 'disabled');
  });
});

describe('explicit peers', () => {
  test('a node-specific peer that duplicates a global one is suppressed (idle peer)', () => {
    const yaml = y.config('{nodeToNodeMeshEnabled: false}') + three + y.peer('g', '{peerSelector: all()}') + y.peer('n', '{node: a, peerSelector: all()}');
    const v = view(yaml, 'a').view.ipv4.bgp!;
    assert.equal(active(v.globalPeers).length, 2);
    assert.deepEqual(active(v.nodePeers), []);
  });
  test('colliding keys: the BGPPeer whose name sorts first wins, whatever the document order', () => {
    const p1 = y.peer('p-1', '{peerIP: 192.0.2.1, asNumber: 65001}');
    const p2 = y.peer('p-2', '{peerIP: "192.0.2.1:179", asNumber: 65002}');
    for (const yaml of [three + p1 + p2, p2 + three + p1]) {
      assert.deepEqual(active(view(yaml, 'a').view.ipv4.bgp!.globalPeers), ['Global_192_0_2_1 | neighbor 192.0.2.1 as 65001;']);
    }
  });
  test('peerIP to a Calico node takes its listen port, and the reverse session appears on the target', () => {
    const yaml = y.config('{nodeToNodeMeshEnabled: false}') + y.config('{listenPort: 500}', 'node.b') + three + y.peer('ab', '{node: a, peerIP: 10.0.0.10, asNumber: 64512}');
    assert.deepEqual(active(view(yaml, 'a').view.ipv4.bgp!.nodePeers), ['Node_10_0_0_10_port_500 | neighbor 10.0.0.10 port 500 as 64512;']);
    assert.deepEqual(active(view(yaml, 'b').view.ipv4.bgp!.nodePeers), ['Node_10_0_0_9 | neighbor 10.0.0.9 as 64512;']);
    assert.deepEqual(active(view(yaml, 'c').view.ipv4.bgp!.nodePeers), []);
  });
  test('next hop keep only for eBGP; rr client only from a reflector to a peer outside its cluster', () => {
    const yaml = y.config('{nodeToNodeMeshEnabled: false}') + y.node('rr', '{ipv4Address: 10.0.0.1/24, routeReflectorClusterID: 9.9.9.9}', '{rr: "y"}') + y.node('c1', '{ipv4Address: 10.0.0.2/24}') +
      y.peer('ibgp', '{peerIP: 192.0.2.1, asNumber: 64512, keepOriginalNextHop: true}') + y.peer('ebgp', '{peerIP: 192.0.2.2, asNumber: 65000, keepOriginalNextHop: true}') + y.peer('clients', '{nodeSelector: "!has(rr)", peerSelector: has(rr)}');
    const v = view(yaml, 'rr').view.ipv4.bgp!;
    assert.deepEqual(active(v.globalPeers), ['Global_192_0_2_1 | neighbor 192.0.2.1 as 64512; | rr client; | rr cluster id 9.9.9.9;', 'Global_192_0_2_2 | neighbor 192.0.2.2 as 65000; | next hop keep;']);
    assert.deepEqual(active(v.nodePeers), ['Node_10_0_0_2 | neighbor 10.0.0.2 as 64512; | rr client; | rr cluster id 9.9.9.9;']);
    assert.deepEqual(active(view(yaml, 'c1').view.ipv4.bgp!.nodePeers), ['Node_10_0_0_1 | neighbor 10.0.0.1 as 64512;']);
  });
  test('IPv6 peer with [addr]:port, normalized', () => {
    const yaml = y.node('a', '{ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64"}') + y.peer('v6', '{peerIP: "[2001:DB8:0:0::1]:1179", asNumber: 65000}');
    assert.deepEqual(active(view(yaml, 'a').view.ipv6.bgp!.globalPeers), ['Global_2001_db8__1_port_1179 | neighbor 2001:db8::1 port 1179 as 65000;']);
  });
  test('passwords: from stringData, missing key means none with a warning, a quote is an error and drops the peer', () => {
    const base = y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.peer('ok', '{peerIP: 192.0.2.1, asNumber: 65000, password: {secretKeyRef: {name: s, key: ok}}}') +
      y.peer('missing', '{peerIP: 192.0.2.2, asNumber: 65000, password: {secretKeyRef: {name: s, key: nope}}}') + y.peer('bad', '{peerIP: 192.0.2.3, asNumber: 65000, password: {secretKeyRef: {name: s, key: bad}}}');
    const { view: v, messages } = view(base + y.secret('s', `{ok: fake-pass, bad: 'x"y'}`), 'a');
    assert.deepEqual(active(v.ipv4.bgp!.globalPeers), ['Global_192_0_2_1 | neighbor 192.0.2.1 as 65000; | password "fake-pass";', 'Global_192_0_2_2 | neighbor 192.0.2.2 as 65000;']);
    assert.ok(messages.some((m) => m.startsWith('error: BGPPeer/bad spec.password.secretKeyRef') && m.includes('key "bad"')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('warning: BGPPeer/missing')), messages.join('\n'));
    assert.ok(!messages.some((m) => m.includes('x"y') || m.includes('fake-pass')), 'a secret value reached a diagnostic');
  });
  test('secrets are read from the configured namespace only', () => {
    const yaml = y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.peer('p', '{peerIP: 192.0.2.1, asNumber: 65000, password: {secretKeyRef: {name: s, key: k}}}') + y.secret('s', '{k: in-calico}', 'calico-system');
    assert.equal(view(yaml, 'a').view.ipv4.bgp!.globalPeers[0]!.hasPassword, false);
    assert.equal(view(yaml, 'a', { secretNamespace: 'calico-system' }).view.ipv4.bgp!.globalPeers[0]!.hasPassword, true);
  });
});

describe('router id, log level, families', () => {
  test('router id: node IPv4, env override, hash, and hash fallback with a warning for an IPv6-only node', () => {
    const yaml = y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('six', '{ipv6Address: "fd00::6/64"}');
    assert.equal(view(yaml, 'a').view.routerId, '10.0.0.1');
    assert.equal(view(yaml, 'a', { routerId: '192.0.2.9' }).view.routerId, '192.0.2.9');
    assert.equal(view(yaml, 'a', { routerId: 'hash' }).view.routerId, hashToIPv4('a'));
    const six = view(yaml, 'six');
    assert.equal(six.view.routerId, hashToIPv4('six'));
    assert.equal(six.view.ipv4.bgp, null);
    assert.ok(six.view.ipv6.bgp);
    assert.ok(six.messages.some((m) => m.startsWith('warning: Node/six')));
  });
  test('log level: node config wins; Warning and above mean no debug statement', () => {
    const yaml = y.config('{logSeverityScreen: Debug}') + y.config('{logSeverityScreen: Error}', 'node.b') + three;
    assert.equal(view(yaml, 'a').view.debugLine, 'debug all;');
    assert.equal(view(yaml, 'b').view.debugLine, null);
    assert.equal(view(three, 'a').view.debugLine, 'debug { states };');
  });
  test('a node that does not exist is an error, not an empty config', () => {
    const r = computeNodeView(snap(three), 'nope', {}, new RenderStore());
    assert.equal(r.view, null);
    assert.ok(r.diagnostics.some((d) => d.severity === 'error' && d.object === 'Node/nope'));
  });
});

describe('routes, pools, blocks, communities', () => {
  test('blocks of this node only, sorted as keys; pending ones are not aggregated', () => {
    const yaml = three + y.block('b1', '{node: a, cidr: 10.5.0.64/26, state: pending}') + y.block('b2', '{node: a, cidr: 10.5.0.128/26}') + y.block('b3', '{node: b, cidr: 10.6.0.0/26}');
    assert.deepEqual(view(yaml, 'a').view.ipv4.blocks, [
      { cidr: '10.5.0.128/26', state: '', aggregate: true, aggrStatements: ['if ( net = 10.5.0.128/26 ) then { accept; }', 'if ( net ~ 10.5.0.128/26 ) then { reject; }'] },
      { cidr: '10.5.0.64/26', state: 'pending', aggregate: false, aggrStatements: [] },
    ]);
  });
  test('kernel rules per pool encapsulation; none without an IPv4 network (Calico quirk kept)', () => {
    const pools = y.pool('x', '{cidr: 10.7.0.0/16, ipipMode: CrossSubnet}') + y.pool('v', '{cidr: 10.8.0.0/16, vxlanMode: CrossSubnet, ipipMode: Always}') + y.pool('n', '{cidr: 10.9.0.0/16}');
    const v = view(three + pools, 'a').view.ipv4;
    assert.deepEqual(v.kernelPools.map((p) => `${p.cidr}: ${p.statements.join(' ')}`), [
      '10.7.0.0/16: if defined(bgp_next_hop) && ( bgp_next_hop ~ 10.0.0.0/24 ) then   krt_tunnel = ""; else   krt_tunnel = "tunl0"; accept;',
      '10.8.0.0/16: reject;',
      '10.9.0.0/16: krt_tunnel = ""; accept;',
    ]);
    assert.deepEqual(view(y.node('six', '{ipv6Address: "fd00::6/64"}') + pools, 'six').view.ipv4.kernelPools, []);
  });
  test('service routes: ranges from every node, Local services only where an endpoint of the same family is', () => {
    const svc = (name: string, spec: string, eps: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: ${spec}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: ${name}}\nsubsets: [{addresses: ${eps}}]\n---\n`;
    const yaml = y.config('{serviceClusterIPs: [{cidr: 10.96.0.0/16}], serviceExternalIPs: [{cidr: 192.0.2.0/24}]}') + three +
      svc('l', '{type: LoadBalancer, externalTrafficPolicy: Local, clusterIP: 10.96.0.5, externalIPs: [192.0.2.5, 198.51.100.1]}', '[{ip: 10.1.1.1, nodeName: a}]') +
      svc('v6ep', '{type: LoadBalancer, externalTrafficPolicy: Local, clusterIP: 10.96.0.6}', '[{ip: "fd00::9", nodeName: a}]');
    const a = view(yaml, 'a').view.ipv4;
    assert.deepEqual(a.staticRoutes, ['10.96.0.0/16', '10.96.0.5/32', '192.0.2.0/24', '192.0.2.5/32']);
    assert.deepEqual(a.kernelRejects, ['10.96.0.0/16', '192.0.2.0/24']);
    assert.deepEqual(view(yaml, 'b').view.ipv4.staticRoutes, ['10.96.0.0/16', '192.0.2.0/24']);
  });
  test('communities: node-level prefixAdvertisements replace the global ones in both families; names resolve in the same resource', () => {
    const yaml = y.config('{communities: [{name: n, value: "1:2"}], prefixAdvertisements: [{cidr: 10.0.0.0/8, communities: [n, "3:4:5", n]}, {cidr: "fd00::/8", communities: ["6:7"]}]}') +
      y.config('{prefixAdvertisements: [{cidr: 10.0.0.0/8, communities: [n, "8:9"]}]}', 'node.b') + three;
    const a = view(yaml, 'a').view;
    assert.deepEqual(a.ipv4.communityRules, [{ cidr: '10.0.0.0/8', statements: ['bgp_community.add((1, 2));', 'bgp_large_community.add((3, 4, 5));'] }]);
    assert.deepEqual(a.ipv6.communityRules, [{ cidr: 'fd00::/8', statements: ['bgp_community.add((6, 7));'] }]);
    const b = view(yaml, 'b');
    assert.deepEqual(b.view.ipv4.communityRules, [{ cidr: '10.0.0.0/8', statements: ['bgp_community.add((8, 9));'] }]);
    assert.deepEqual(b.view.ipv6.communityRules, []);
    assert.ok(b.messages.some((m) => m.includes('community name "n" is not defined')));
  });
});

describe('determinism', () => {
  test('the same documents in any order give the same view', () => {
    const docs = [y.config('{nodeToNodeMeshEnabled: false}'), three, y.peer('p1', '{peerSelector: all()}'), y.peer('p2', '{node: b, peerIP: 10.0.0.9, asNumber: 64512}'), y.block('bb', '{node: a, cidr: 10.5.0.0/26}')];
    const ref = JSON.stringify(view(docs.join(''), 'a').view);
    assert.equal(JSON.stringify(view([...docs].reverse().join(''), 'a').view), ref);
    assert.equal(JSON.stringify(view([docs[2], docs[0], docs[4], docs[1], docs[3]].join(''), 'a').view), ref);
  });
});
