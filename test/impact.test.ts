/**
 * Which node views a change reaches (src/render/impact.ts), per profile, for the kinds each
 * profile reads: the expected set of each case, and a soundness check against real renders (every
 * node whose files change is in the set).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifestText } from '../src/model/load.js';
import { idOf, type Resource } from '../src/model/resources.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { affectedNodes, affects, impactOptionsOf, type Affected, type ImpactOptions } from '../src/render/impact.js';
import { clusterFacts, RenderStore } from '../src/render/index.js';
import type { CalicoVersion } from '../src/render/profiles.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import { snap, y } from './helpers/snap.js';

const nodes = ['a', 'b', 'c'];

const svc = (name: string, spec: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: default}\nspec: ${spec}\n---\n`;
const slice = (name: string, service: string, nodeNames: readonly string[]) =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}, namespace: default, labels: {kubernetes.io/service-name: ${service}}}\naddressType: IPv4\nendpoints: [${nodeNames.map((n, i) => `{addresses: [10.244.9.${i + 1}], nodeName: ${n}}`).join(', ')}]\n---\n`;
const endpoints = (name: string, nodeNames: readonly string[]) =>
  `apiVersion: v1\nkind: Endpoints\nmetadata: {name: ${name}, namespace: default}\nsubsets: [{addresses: [${nodeNames.map((n, i) => `{ip: 10.244.8.${i + 1}, nodeName: ${n}}`).join(', ')}]}]\n---\n`;
const status = (name: string, ip: string, peer: string) => `apiVersion: bird-confd/v1\nkind: WorkloadEndpointStatus\nmetadata: {name: ${name}}\nspec: {ipv4Nets: [${ip}/32], bgpPeerName: ${peer}}\n---\n`;
const filter = (name: string, cidr: string) => `apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata: {name: ${name}}\nspec: {exportV4: [{action: Reject, matchOperator: In, cidr: ${cidr}}]}\n---\n`;

const base =
  // Aggregation off: a Service that is not Local is advertised as a /32 from every node while it has an endpoint.
  y.config('{serviceClusterIPs: [{cidr: 10.96.0.0/16}], serviceLoadBalancerAggregation: Disabled, nodeMeshPassword: {secretKeyRef: {name: mesh, key: pw}}}') +
  y.node('a', '{ipv4Address: 10.0.0.1/24}') +
  y.node('b', '{ipv4Address: 10.0.0.2/24}') +
  y.node('c', '{ipv4Address: 10.0.0.3/24}', '{rack: r2}') +
  y.peer('pods', `{localWorkloadSelector: "has(speaker)", asNumber: 65010, nodeSelector: "rack == 'r2'"}`) +
  y.secret('mesh', '{pw: fake-mesh-password}') +
  y.secret('unused', '{pw: fake-other}') +
  svc('web', '{type: NodePort, clusterIP: 10.96.0.10, externalTrafficPolicy: Local}') +
  svc('api', '{type: ClusterIP, clusterIP: 10.96.0.11}') +
  slice('web-1', 'web', ['b']) +
  slice('api-1', 'api', ['b']) +
  endpoints('web', ['b']);

function resource(yaml: string): Resource {
  const r = parseManifestText(yaml, 'change.yaml');
  assert.equal(r.resources.length, 1, JSON.stringify(r.diagnostics));
  return r.resources[0]!;
}

/** A change: the YAML of the object after it (null: deleted), and which object it replaces. */
interface Case {
  readonly name: string;
  readonly version: CalicoVersion;
  /** The new version of an object (added or changed), or the object deleted. */
  readonly after?: string;
  readonly deleted?: { kind: Resource['kind']; name: string; namespace?: string };
  /** The nodes reached: 'all' or a list. */
  readonly expected: 'all' | readonly string[];
}

const cases: readonly Case[] = [
  // Calico v3.32: EndpointSlices, not Endpoints.
  { name: "a Local service's endpoint moves from b to c", version: '3.32', after: slice('web-1', 'web', ['c']), expected: ['b', 'c'] },
  { name: "a Local service's slice gains an endpoint on another node (not a)", version: '3.32', after: slice('web-1', 'web', ['b', 'c']), expected: ['b', 'c'] },
  { name: "a Local service's endpoint moves to a", version: '3.32', after: slice('web-1', 'web', ['a']), expected: ['a', 'b'] },
  { name: "a Local service's slice is deleted", version: '3.32', deleted: { kind: 'EndpointSlice', name: 'web-1', namespace: 'default' }, expected: ['b'] },
  { name: 'a slice of a Service that is not Local: its routes come from every node', version: '3.32', after: slice('api-1', 'api', ['c']), expected: 'all' },
  { name: 'the only slice of a Service that is not Local is deleted: its route leaves every node', version: '3.32', deleted: { kind: 'EndpointSlice', name: 'api-1', namespace: 'default' }, expected: 'all' },
  { name: 'a slice of no known Service', version: '3.32', after: slice('ghost-1', 'ghost', ['a']), expected: [] },
  { name: 'a Local Service changes: the nodes of its slices', version: '3.32', after: svc('web', '{type: NodePort, clusterIP: 10.96.0.12, externalTrafficPolicy: Local}'), expected: ['b'] },
  { name: 'a Local Service becomes Cluster', version: '3.32', after: svc('web', '{type: NodePort, clusterIP: 10.96.0.10, externalTrafficPolicy: Cluster}'), expected: 'all' },
  { name: 'a Service that is not Local, without endpoints or external addresses', version: '3.32', after: svc('lone', '{type: ClusterIP, clusterIP: 10.96.0.13}'), expected: [] },
  { name: 'a Service that is not Local with an external IP: advertised from every node by it alone', version: '3.32', after: svc('lone', '{type: ClusterIP, clusterIP: 10.96.0.13, externalIPs: [10.96.1.1]}'), expected: 'all' },
  { name: 'a Service outside every range', version: '3.32', after: svc('far', '{type: ClusterIP, clusterIP: 172.30.0.1}'), expected: [] },
  { name: 'v1 Endpoints are not read by v3.32', version: '3.32', after: endpoints('web', ['a']), expected: [] },
  { name: 'a BGPFilter is rendered into every node', version: '3.32', after: filter('f', '10.9.0.0/16'), expected: 'all' },
  { name: 'an endpoint status reaches the nodes of the BGPPeer it names', version: '3.32', after: status('w1', '10.244.3.3', 'pods'), expected: ['c'] },
  { name: 'an endpoint status naming no BGPPeer', version: '3.32', after: status('w2', '10.244.3.4', 'nobody'), expected: [] },
  { name: 'the mesh password Secret', version: '3.32', after: y.secret('mesh', '{pw: fake-mesh-password-2}'), expected: 'all' },
  { name: 'an unused Secret', version: '3.32', after: y.secret('unused', '{pw: fake-other-2}'), expected: [] },
  // Calico v3.17: v1 Endpoints; none of the v3.32 kinds.
  { name: 'v3.17: a Local service endpoint moves from b to c', version: '3.17', after: endpoints('web', ['c']), expected: ['b', 'c'] },
  { name: 'v3.17: EndpointSlices are not read', version: '3.17', after: slice('web-1', 'web', ['a']), expected: [] },
  { name: 'v3.17: BGPFilters are not read', version: '3.17', after: filter('f', '10.9.0.0/16'), expected: [] },
  { name: 'v3.17: endpoint statuses are not read', version: '3.17', after: status('w1', '10.244.3.3', 'pods'), expected: [] },
  { name: 'v3.17: the mesh password Secret is not read', version: '3.17', after: y.secret('mesh', '{pw: fake-mesh-password-2}'), expected: [] },
];

function filesOfEveryNode(s: Snapshot, calicoVersion: CalicoVersion): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) out.set(n, JSON.stringify([...(renderNodeWithTemplates(s, n, { calicoVersion }).files ?? [])]));
  return out;
}

/** Applies a case to a fresh snapshot; returns what affectedNodes says and which nodes' files changed. */
function run(c: Case, options: ImpactOptions = {}): { affected: Affected; changed: string[] } {
  const s = snap(base);
  const store = new RenderStore();
  const before = filesOfEveryNode(s, c.version);
  // The daemon's order: the store has rendered the state before the change.
  renderNodeWithTemplates(s, 'a', { calicoVersion: c.version }, store);
  let change;
  if (c.after) {
    const after = resource(c.after);
    const id = idOf(after);
    change = { before: s.get(id.kind, id.name, id.namespace) ?? null, after };
    s.apply(after);
  } else {
    const id = { kind: c.deleted!.kind, name: c.deleted!.name, namespace: c.deleted!.namespace ?? '' };
    change = { before: s.get(id.kind, id.name, id.namespace) ?? null, after: null };
    assert.ok(s.delete(id));
  }
  const facts = clusterFacts(s, {}, store);
  const affected = affectedNodes(change as never, facts, s, store, { calicoVersion: c.version, ...options });
  const after = filesOfEveryNode(s, c.version);
  return { affected, changed: nodes.filter((n) => before.get(n) !== after.get(n)) };
}

describe('affectedNodes: the views a change reaches, per profile', () => {
  for (const c of cases) {
    test(c.name, () => {
      const { affected, changed } = run(c);
      if (c.expected === 'all') assert.ok(affected.all, `expected every node, got ${JSON.stringify(affected)}`);
      else assert.deepEqual(affected.all ? 'all' : [...affected.nodes].sort(), [...c.expected]);
      // Sound: a view whose files changed is always reached.
      for (const n of changed) assert.ok(affects(affected, n), `node ${n}'s files changed but the change was judged not to reach it`);
    });
  }

  test("a slice change for a Local service on other nodes does not re-render node a, and one onto a does", () => {
    const away = run(cases[0]!);
    assert.equal(affects(away.affected, 'a'), false);
    assert.ok(!away.changed.includes('a'));
    const onto = run(cases[2]!);
    assert.equal(affects(onto.affected, 'a'), true);
    assert.ok(onto.changed.includes('a'), 'the case is meant to change node a');
  });

  test('CALICO_K8S_NODE_REF: an endpoint on the Kubernetes node name reaches the Calico node', () => {
    const c: Case = { name: 'ref', version: '3.32', after: slice('web-1', 'web', ['kube-a']), expected: [] };
    const { affected } = run(c, impactOptionsOf('a', { k8sNodeRef: 'kube-a', calicoVersion: '3.32' }));
    assert.ok(affects(affected, 'a'));
    assert.equal(affects(run(c).affected, 'a'), false);
  });
});
