import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { formatDiagnostic } from '../src/model/diagnostics.js';
import { endpointStatusName, parseEndpointStatusFile } from '../src/model/endpoint-status.js';
import { serviceNameOf, type EndpointSlice } from '../src/model/k8s-endpoint-slice.js';
import type { Service } from '../src/model/k8s-service.js';
import { loadManifestPaths, manifestFiles, parseManifestText, snapshotOf } from '../src/model/load.js';
import type { Resource } from '../src/model/resources.js';
import { localWorkloadPeer, type WorkloadEndpointStatus } from '../src/model/workload-endpoint-status.js';
import { renderNodeWithTemplates as renderNode } from '../src/watch/template-files.js';
import { doc, loadOne, runCases } from './helpers/model-cases.js';

const service = (spec: Record<string, unknown>, status?: unknown) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec, ...(status ? { status } : {}) });
const svc = (r: Resource) => r as Service;
const slice = (addressType: string, endpoints: unknown[], name = 's-abc') => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, labels: { 'kubernetes.io/service-name': 's' } }, addressType, endpoints });
const wes = (spec: Record<string, unknown>, name = 'pod1') => doc('WorkloadEndpointStatus', name, spec, 'bird-confd/v1');

describe('Service: the v3.32 fields, with the defaults the API server writes', () => {
  runCases([
    { name: 'clusterIPs and ipFamilies from clusterIP; Cluster policy for LoadBalancer', doc: service({ type: 'LoadBalancer', clusterIP: 'fd00:96::28' }), ok: (r) => {
      assert.deepEqual(svc(r).spec.clusterIPs, ['fd00:96::28']);
      assert.deepEqual(svc(r).spec.ipFamilies, ['IPv6']);
      assert.equal(svc(r).spec.externalTrafficPolicy, 'Cluster');
    } },
    { name: 'given clusterIPs and ipFamilies are kept', doc: service({ type: 'NodePort', clusterIP: '10.101.0.1', clusterIPs: ['10.101.0.1', 'fd00::1'], ipFamilies: ['IPv4', 'IPv6'], externalTrafficPolicy: 'Local' }), ok: (r) => {
      assert.deepEqual(svc(r).spec.clusterIPs, ['10.101.0.1', 'fd00::1']);
      assert.deepEqual(svc(r).spec.ipFamilies, ['IPv4', 'IPv6']);
      assert.equal(svc(r).spec.externalTrafficPolicy, 'Local');
    } },
    { name: 'a ClusterIP Service gets no traffic policy; headless gets no family', doc: service({ clusterIP: 'None' }), ok: (r) => {
      assert.equal(svc(r).spec.externalTrafficPolicy, null);
      assert.deepEqual(svc(r).spec.clusterIPs, ['None']);
      assert.deepEqual(svc(r).spec.ipFamilies, []);
    } },
    { name: 'loadBalancerIP and ingress IPs', doc: service({ type: 'LoadBalancer', clusterIP: '10.101.0.1', loadBalancerIP: '80.15.0.1' }, { loadBalancer: { ingress: [{ ip: '80.15.0.2' }, { hostname: 'lb.example' }] } }), ok: (r) => {
      assert.equal(svc(r).spec.loadBalancerIP, '80.15.0.1');
      assert.deepEqual(svc(r).status.loadBalancer.ingress, [{ ip: '80.15.0.2' }, { ip: null }]);
    } },
    { name: 'no status reads as no ingress', doc: service({ type: 'LoadBalancer' }), ok: (r) => assert.deepEqual(svc(r).status.loadBalancer.ingress, []) },
    { name: 'bad ingress IP', doc: service({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '80.15.0.300' }] } }), error: ['status.loadBalancer.ingress[0].ip', /not an IP address/] },
    { name: 'bad loadBalancerIP', doc: service({ type: 'LoadBalancer', loadBalancerIP: 'lb' }), error: ['spec.loadBalancerIP', /not an IP address/] },
    { name: 'clusterIPs with a zone id', doc: service({ clusterIPs: ['fe80::1%eth0'] }), error: ['spec.clusterIPs[0]', /zone id/] },
    { name: 'unknown ipFamily', doc: service({ ipFamilies: ['IPv5'] }), error: ['spec.ipFamilies[0]', /IPv4 or IPv6/] },
  ]);
});

describe('EndpointSlice (discovery.k8s.io/v1)', () => {
  runCases([
    { name: 'ready, not ready and unknown endpoints; the Service label; namespace default', doc: slice('IPv4', [{ addresses: ['192.168.2.1'], nodeName: 'kube-master', conditions: { ready: true } }, { addresses: ['192.168.2.2'], conditions: { ready: false } }, { addresses: ['192.168.2.3'] }]), ok: (r) => {
      const s = r as EndpointSlice;
      assert.equal(s.metadata.namespace, undefined);
      assert.equal(serviceNameOf(s), 's');
      assert.deepEqual(s.endpoints.map((e) => [e.addresses, e.nodeName, e.conditions.ready]), [[['192.168.2.1'], 'kube-master', true], [['192.168.2.2'], null, false], [['192.168.2.3'], null, null]]);
    } },
    { name: 'FQDN addresses are not IPs', doc: slice('FQDN', [{ addresses: ['db.example'] }]), ok: (r) => assert.equal((r as EndpointSlice).addressType, 'FQDN') },
    { name: 'an IPv6 address in an IPv4 slice', doc: slice('IPv4', [{ addresses: ['192.168.2.1', 'fd00::1'] }]), error: ['endpoints[0].addresses[1]', /not an IPv4 address/] },
    { name: 'a zone id', doc: slice('IPv6', [{ addresses: ['fe80::1%eth0'] }]), error: ['endpoints[0].addresses[0]', /zone id/] },
    { name: 'no addressType', doc: slice('', []), error: ['addressType', /IPv4, IPv6 or FQDN/] },
  ]);
  test('kept per namespace beside the v1 Endpoints of the same name', () => {
    const text = ['apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets: []', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: a}\naddressType: IPv4\nendpoints: []', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: b}\naddressType: IPv4'].join('\n---\n');
    const snap = snapshotOf(parseManifestText(text, 'x.yaml').resources);
    assert.deepEqual(snap.list('EndpointSlice').map((s) => s.metadata.namespace), ['a', 'b']);
    assert.equal(snap.count('Endpoints'), 1);
  });
});

describe('WorkloadEndpointStatus (bird-confd/v1) and Felix endpoint-status files', () => {
  const pod1 = { ifaceName: 'cali97e1defe654', ipv4Nets: ['192.168.162.134/32'], ipv6Nets: ['fd00:10:244:0:586d:4461:e980:a284/128'], bgpPeerName: 'test-global-peer-with-filter' };
  runCases([
    { name: 'an active status gives its first address per family', doc: wes(pod1), ok: (r) => assert.deepEqual(localWorkloadPeer(r as WorkloadEndpointStatus), { bgpPeerName: 'test-global-peer-with-filter', ipv4: '192.168.162.134', ipv6: 'fd00:10:244:0:586d:4461:e980:a284' }) },
    { name: 'a first entry that does not parse: loads, with a warning, and gives no peer', doc: wes({ ...pod1, ipv4Nets: ['192.168.162.134', '10.0.0.1/32'] }), ok: (r, d) => {
      assert.ok('skipped' in localWorkloadPeer(r as WorkloadEndpointStatus));
      assert.ok(d.some((x) => x.severity === 'warning' && x.field === 'spec.ipv4Nets[0]'), JSON.stringify(d));
    } },
    { name: 'no bgpPeerName: no peer, no warning', doc: wes({ ifaceName: 'cali1', ipv4Nets: ['10.0.0.1/32'] }), ok: (r, d) => {
      assert.ok('skipped' in localWorkloadPeer(r as WorkloadEndpointStatus));
      assert.deepEqual(d, []);
    } },
    { name: 'a net that is not text', doc: wes({ ...pod1, ipv6Nets: [7] }), error: ['spec.ipv6Nets[0]', /./] },
  ]);
  test('a file with a BGP peer becomes a resource; the others give nothing', () => {
    const active = parseEndpointStatusFile('pod1', JSON.stringify({ ...pod1, mac: '' }));
    assert.deepEqual(active.diagnostics, []);
    assert.equal(active.resource?.metadata.name, 'pod1');
    assert.deepEqual(localWorkloadPeer(active.resource!), { bgpPeerName: pod1.bgpPeerName, ipv4: '192.168.162.134', ipv6: 'fd00:10:244:0:586d:4461:e980:a284' });
    const v6only = parseEndpointStatusFile('pod2', JSON.stringify({ ipv6Nets: ['fd00::5/128'], bgpPeerName: 'p' }));
    assert.deepEqual(localWorkloadPeer(v6only.resource!), { bgpPeerName: 'p', ipv4: null, ipv6: 'fd00::5' });
    assert.deepEqual(parseEndpointStatusFile('plain', JSON.stringify({ ifaceName: 'cali1', ipv4Nets: ['10.0.0.1/32'] })), { resource: null, diagnostics: [] });
    assert.deepEqual(parseEndpointStatusFile('empty-peer', JSON.stringify({ ipv4Nets: ['10.0.0.1/32'], bgpPeerName: '' })), { resource: null, diagnostics: [] });
  });
  test('skipped files: first entry bad, neither family, not JSON, a field of the wrong type', () => {
    const bad = parseEndpointStatusFile('pod3', JSON.stringify({ ipv4Nets: ['10.0.0.1/32'], ipv6Nets: ['fe80::1%eth0/128'], bgpPeerName: 'p' }));
    assert.equal(bad.resource, null);
    assert.deepEqual(bad.diagnostics.map((d) => [d.severity, d.object, d.field]), [['warning', 'WorkloadEndpointStatus/pod3', 'spec.ipv6Nets[0]']]);
    const none = parseEndpointStatusFile('pod4', JSON.stringify({ bgpPeerName: 'p' }));
    assert.equal(none.resource, null);
    assert.match(formatDiagnostic(none.diagnostics[0]!), /^pod4: WorkloadEndpointStatus\/pod4: spec: neither ipv4Nets nor ipv6Nets/);
    const half = parseEndpointStatusFile('pod5', '{"ipv4Nets": ["10.0.0.1/3');
    assert.deepEqual(half.diagnostics.map((d) => [d.severity, d.file]), [['error', 'pod5']]);
    const typed = parseEndpointStatusFile('pod6', JSON.stringify({ ipv4Nets: '10.0.0.1/32', bgpPeerName: 'p' }));
    assert.deepEqual(typed.diagnostics.map((d) => d.field), ['spec.ipv4Nets']);
  });
  test("Felix's file names become distinct resource names", () => {
    assert.equal(endpointStatusName('pod1'), 'pod1');
    const a = endpointStatusName('k8s default%2Fpod-1 eth0');
    const b = endpointStatusName('k8s default%2Fpod-1 eth0 ');
    assert.match(a, /^k8s-default-2Fpod-1-eth0-[0-9a-f]{10}$/);
    assert.notEqual(a, b);
    assert.match(endpointStatusName('%%%'), /^status-[0-9a-f]{10}$/);
    assert.ok(parseEndpointStatusFile('k8s default%2Fpod-1 eth0', JSON.stringify(pod1)).resource);
  });
});

describe('IPv6 zone ids are refused with object and field', () => {
  test('in a Calico Node, a Kubernetes Node annotation, and a BGPPeer peerIP; the rest still renders', () => {
    const node = loadOne(doc('Node', 'z', { bgp: { ipv4Address: '10.0.0.9/24', ipv6Address: 'fe80::2%eth0/64' } }));
    assert.deepEqual(node.diagnostics.map(formatDiagnostic), ['case.yaml: Node/z: spec.bgp.ipv6Address: a zone id (%...) is not allowed in an IP address: "fe80::2%eth0/64"']);
    const kube = loadOne({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'k', annotations: { 'projectcalico.org/IPv6Address': 'fe80::2%eth0' } } });
    assert.deepEqual(kube.diagnostics.map((d) => [d.object, d.field]), [['Node(v1)/k', 'metadata.annotations[projectcalico.org/IPv6Address]']]);
    const text = 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: a}\nspec: {bgp: {ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64"}}\n---\n' +
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: ll}\nspec: {peerIP: "fe80::2%eth0", asNumber: 65001}\n---\n' +
      'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: ok}\nspec: {peerIP: "fd00::9", asNumber: 65001}\n';
    const r = renderNode(snapshotOf(parseManifestText(text, 'x.yaml').resources), 'a');
    const problems = r.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(problems.map((d) => [d.object, d.field, d.message]), [['BGPPeer/ll', 'spec.peerIP', 'a zone id (%...) is not allowed in an IP address: "fe80::2%eth0"']]);
    assert.match(r.files!.get('bird6.cfg')!, /Global_fd00__9/);
    assert.doesNotMatch([...r.files!.values()].join('\n'), /%/);
  });
});

/** Calico confd v3.32's own cases, beside the repository. */
const suite = join('..', 'shared', 'calico-confd-v3.32');
/** Input files that are refused on purpose: Calico's unused cleanup file has a typo in an IPv6 CIDR. */
const knownBad: Record<string, RegExp> = { 'mesh/vxlan-always/delete.yaml': /IPPool\/ippool-v6-1: spec\.cidr: not a CIDR/ };

describe('every input of the Calico v3.32 suite loads', () => {
  const present = existsSync(join(suite, 'scenarios.yaml'));
  const why = `${suite} is missing (Calico confd v3.32 cases)`;
  if (!present && process.env.CI === 'true') test('the v3.32 suite is present under CI', () => assert.fail(why));
  test('no error diagnostic in any input file (but the known bad one)', { skip: present ? false : why }, async () => {
    const files = await manifestFiles(join(suite, 'inputs'));
    assert.ok(files.length > 40, `only ${files.length} input files`);
    const kinds = new Set<string>();
    for (const file of files) {
      const rel = file.slice(join(suite, 'inputs').length + 1);
      const r = await loadManifestPaths([file]);
      for (const res of r.resources) kinds.add(res.kind);
      const errors = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      const expected = knownBad[rel];
      if (expected) assert.ok(errors.length === 1 && expected.test(errors[0]!), `${rel}: ${errors.join('; ')}`);
      else assert.deepEqual(errors, [], rel);
      assert.deepEqual(r.diagnostics.filter((d) => /unknown kind/.test(d.message)).map(formatDiagnostic), [], rel);
    }
    for (const k of ['BGPFilter', 'EndpointSlice', 'WorkloadEndpointStatus', 'BGPPeer', 'BGPConfiguration', 'IPPool', 'Service', 'Secret', 'BlockAffinity']) assert.ok(kinds.has(k), `no ${k} loaded`);
  });
  test('every file the scenarios apply exists and is clean', { skip: present ? false : why }, async () => {
    const scenarios = parse(readFileSync(join(suite, 'scenarios.yaml'), 'utf8')) as { cases: { steps: { apply?: string[] }[] }[] };
    const applied = new Set(scenarios.cases.flatMap((c) => c.steps.flatMap((s) => s.apply ?? [])));
    assert.ok(applied.size > 30);
    for (const rel of applied) {
      assert.ok(!(rel in knownBad), `${rel} is applied by a scenario`);
      const r = await loadManifestPaths([join(suite, 'inputs', rel)]);
      assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), [], rel);
    }
  });
});
