import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BGPConfiguration } from '../src/model/bgp-configuration.js';
import type { BGPPeer } from '../src/model/bgp-peer.js';
import { parseGoDuration, roundedSeconds } from '../src/model/duration.js';
import type { IPPool } from '../src/model/ip-pool.js';
import type { Resource } from '../src/model/resources.js';
import { doc, loadOne, runCases, type ModelCase } from './helpers/model-cases.js';

const peer = (spec: Record<string, unknown>, name = 'x') => doc('BGPPeer', name, spec);
const config = (spec: Record<string, unknown>, name = 'default') => doc('BGPConfiguration', name, spec);
const spec = <T extends Resource>(r: Resource) => (r as T & { spec: Record<string, unknown> }).spec;
const field = (name: string, want: unknown) => (r: Resource) => assert.deepEqual(spec(r)[name], want);

describe('Go durations, rounded to whole seconds as Calico stores them', () => {
  const rows: [string, number | null][] = [
    ['10s', 10], ['1m30s', 90], ['120ms', 0], ['499ms', 0], ['500ms', 1], ['1.5s', 2], ['2.5s', 3], ['0.5s', 1], ['1h', 3600],
    ['1h2m3.4s', 3723], ['0', 0], ['+5s', 5], ['1.s', 1], ['.5s', 1], ['1500us', 0], ['2500\u00b5s', 0], ['1000000ns', 0], ['1m29.5s', 90],
    ['', null], ['10', null], ['s', null], ['.s', null], ['10x', null], ['1s ', null], [' 1s', null], ['1d', null], ['9223372037s', null],
  ];
  for (const [text, seconds] of rows) {
    test(`${JSON.stringify(text)} -> ${seconds ?? 'error'}`, () => {
      const ns = parseGoDuration(text);
      if (seconds === null) assert.equal(typeof ns, 'string');
      else assert.equal(roundedSeconds(ns as bigint), seconds);
    });
  }
  test('negative durations parse, and round half away from zero', () => {
    assert.equal(roundedSeconds(parseGoDuration('-2.5s') as bigint), -3);
    assert.equal(roundedSeconds(parseGoDuration('-1.4s') as bigint), -1);
  });
});

describe('BGPPeer: fields added since v3.17', () => {
  const rows: ModelCase[] = [
    { name: 'no new field: v3.32 fields read as null or empty', doc: peer({ peerIP: '192.0.2.1', asNumber: 65001 }), ok: (r) => {
      const s = spec<BGPPeer>(r);
      for (const f of ['sourceAddress', 'maxRestartTime', 'keepaliveTime', 'numAllowedLocalASNumbers', 'ttlSecurity', 'reachableBy', 'nextHopMode', 'reversePeering', 'localASNumber', 'localWorkloadSelector']) assert.equal(s[f], null, f);
      assert.deepEqual(s.filters, []);
    } },
    { name: 'a BGPPeer without spec still loads', doc: { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'x' } }, ok: field('filters', []) },
    { name: 'sourceAddress None', doc: peer({ sourceAddress: 'None' }), ok: field('sourceAddress', 'None') },
    { name: 'sourceAddress UseNodeIP', doc: peer({ sourceAddress: 'UseNodeIP' }), ok: field('sourceAddress', 'UseNodeIP') },
    { name: 'sourceAddress other', doc: peer({ sourceAddress: 'NodeIP' }), error: ['spec.sourceAddress', /must be one of UseNodeIP, None/] },
    { name: 'maxRestartTime 10s', doc: peer({ maxRestartTime: '10s' }), ok: field('maxRestartTime', '10') },
    { name: 'maxRestartTime 1m30.5s rounds half away from zero', doc: peer({ maxRestartTime: '1m30.5s' }), ok: field('maxRestartTime', '91') },
    { name: 'maxRestartTime 0s', doc: peer({ maxRestartTime: '0s' }), ok: field('maxRestartTime', '0') },
    { name: 'maxRestartTime as a number', doc: peer({ maxRestartTime: 10 }), error: ['spec.maxRestartTime', /not a duration/] },
    { name: 'maxRestartTime without unit', doc: peer({ maxRestartTime: '10' }), error: ['spec.maxRestartTime', /unit .* is missing/] },
    { name: 'maxRestartTime negative', doc: peer({ maxRestartTime: '-5s' }), error: ['spec.maxRestartTime', /must be 0s\.\.4294967295s/] },
    { name: 'maxRestartTime beyond BIRD numbers', doc: peer({ maxRestartTime: '4294967296s' }), error: ['spec.maxRestartTime', /must be 0s\.\.4294967295s/] },
    { name: 'maxRestartTime at BIRD\'s limit', doc: peer({ maxRestartTime: '4294967295s' }), ok: field('maxRestartTime', '4294967295') },
    { name: 'keepaliveTime 120ms', doc: peer({ keepaliveTime: '120ms' }), ok: field('keepaliveTime', '0') },
    { name: 'keepaliveTime 1m', doc: peer({ keepaliveTime: '1m' }), ok: field('keepaliveTime', '60') },
    { name: 'keepaliveTime with an unknown unit', doc: peer({ keepaliveTime: '3d' }), error: ['spec.keepaliveTime', /unknown unit "d"/] },
    { name: 'numAllowedLocalASNumbers 1', doc: peer({ numAllowedLocalASNumbers: 1 }), ok: field('numAllowedLocalASNumbers', 1) },
    { name: 'numAllowedLocalASNumbers 1.5', doc: peer({ numAllowedLocalASNumbers: 1.5 }), error: ['spec.numAllowedLocalASNumbers', /whole number/] },
    { name: 'numAllowedLocalASNumbers beyond int32', doc: peer({ numAllowedLocalASNumbers: 2147483648 }), error: ['spec.numAllowedLocalASNumbers', /-2147483648\.\.2147483647/] },
    { name: 'ttlSecurity 0', doc: peer({ ttlSecurity: 0 }), ok: field('ttlSecurity', 0) },
    { name: 'ttlSecurity 255', doc: peer({ ttlSecurity: 255 }), ok: field('ttlSecurity', 255) },
    { name: 'ttlSecurity 256', doc: peer({ ttlSecurity: 256 }), error: ['spec.ttlSecurity', /must be a whole number 0\.\.255/] },
    { name: 'ttlSecurity -1', doc: peer({ ttlSecurity: -1 }), error: ['spec.ttlSecurity', /0\.\.255/] },
    { name: 'ttlSecurity as text', doc: peer({ ttlSecurity: '1' }), error: ['spec.ttlSecurity', /0\.\.255/] },
    { name: 'reachableBy, same family as peerIP', doc: peer({ peerIP: '10.225.0.4', asNumber: 1, reachableBy: '10.224.0.1' }), ok: field('reachableBy', '10.224.0.1') },
    { name: 'reachableBy, IPv6 with [IPv6]:port', doc: peer({ peerIP: '[ffee::10]:179', asNumber: 1, reachableBy: 'ffee::1:1' }), ok: field('reachableBy', 'ffee::1:1') },
    { name: 'reachableBy without peerIP', doc: peer({ peerSelector: 'all()', reachableBy: '10.224.0.1' }), error: ['spec.reachableBy', /requires spec\.peerIP/] },
    { name: 'reachableBy of the other family', doc: peer({ peerIP: '10.225.0.4:180', asNumber: 1, reachableBy: 'ffee::1' }), error: ['spec.reachableBy', /must be an IPv4 address, as spec\.peerIP/] },
    { name: 'reachableBy not an IP', doc: peer({ peerIP: '10.225.0.4', reachableBy: '10.224.0.0/16' }), error: ['spec.reachableBy', /not an IP address/] },
    { name: 'reachableBy with a zone id', doc: peer({ peerIP: 'fe80::1', reachableBy: 'fe80::2%eth0' }), error: ['spec.reachableBy', /zone id/] },
    { name: 'nextHopMode Self', doc: peer({ nextHopMode: 'Self' }), ok: field('nextHopMode', 'Self') },
    { name: 'nextHopMode Keep with keepOriginalNextHop false', doc: peer({ nextHopMode: 'Keep', keepOriginalNextHop: false }), ok: field('nextHopMode', 'Keep') },
    { name: 'nextHopMode lower case', doc: peer({ nextHopMode: 'keep' }), error: ['spec.nextHopMode', /Auto, Self, Keep/] },
    { name: 'nextHopMode with keepOriginalNextHop true', doc: peer({ nextHopMode: 'Auto', keepOriginalNextHop: true }), error: ['spec.keepOriginalNextHop', /must not be true when spec\.nextHopMode is set/] },
    { name: 'reversePeering Manual', doc: peer({ reversePeering: 'Manual' }), ok: field('reversePeering', 'Manual') },
    { name: 'reversePeering other', doc: peer({ reversePeering: 'Off' }), error: ['spec.reversePeering', /Auto, Manual/] },
    { name: 'localASNumber', doc: peer({ localASNumber: 65002 }), ok: field('localASNumber', '65002') },
    { name: 'localASNumber dotted', doc: peer({ localASNumber: '1.10' }), ok: field('localASNumber', '65546') },
    { name: 'localASNumber out of range', doc: peer({ localASNumber: 4294967296 }), error: ['spec.localASNumber', /AS number out of range/] },
    { name: 'filters', doc: peer({ filters: ['import-only-filter', 'a.b', 'import-only-filter'] }), ok: field('filters', ['import-only-filter', 'a.b', 'import-only-filter']) },
    { name: 'filters with a bad name', doc: peer({ filters: ['ok', "x'; }"] }), error: ['spec.filters[1]', /not a resource name/] },
    { name: 'localWorkloadSelector', doc: peer({ localWorkloadSelector: "app == 'x'", asNumber: 64516 }), ok: field('localWorkloadSelector', "app == 'x'") },
    { name: 'localWorkloadSelector with peerIP', doc: peer({ localWorkloadSelector: 'all()', asNumber: 1, peerIP: '10.0.0.1' }), error: ['spec.localWorkloadSelector', /cannot be combined with spec\.peerIP/] },
    { name: 'localWorkloadSelector with peerSelector', doc: peer({ localWorkloadSelector: 'all()', asNumber: 1, peerSelector: 'all()' }), error: ['spec.localWorkloadSelector', /cannot be combined with spec\.peerSelector/] },
    { name: 'localWorkloadSelector without asNumber', doc: peer({ localWorkloadSelector: 'all()' }), error: ['spec.asNumber', /required \(not 0\) with spec\.localWorkloadSelector/] },
    { name: 'localWorkloadSelector of 4097 characters', doc: peer({ localWorkloadSelector: 'a'.repeat(4097), asNumber: 1 }), error: ['spec.localWorkloadSelector', /at most 4096/] },
    { name: 'node and nodeSelector', doc: peer({ node: 'a', nodeSelector: 'all()' }), error: ['spec.node', /cannot be combined with spec\.nodeSelector/] },
    { name: 'asNumber with peerSelector', doc: peer({ peerSelector: 'all()', asNumber: 65001 }), error: ['spec.asNumber', /must be empty with spec\.peerSelector/] },
    { name: 'the CRD storage form', doc: doc('BGPPeer', 'x', { ttlSecurity: 2, filters: ['f'] }, 'crd.projectcalico.org/v1'), ok: field('ttlSecurity', 2) },
  ];
  runCases(rows);
});

describe('BGPConfiguration: fields added since v3.17', () => {
  const rows: ModelCase[] = [
    { name: 'no new field: null', doc: config({ asNumber: 64512 }), ok: (r) => {
      const s = spec<BGPConfiguration>(r);
      for (const f of ['bindMode', 'ignoredInterfaces', 'nodeMeshPassword', 'nodeMeshMaxRestartTime', 'serviceLoadBalancerIPs', 'serviceLoadBalancerAggregation', 'programClusterRoutes', 'ipv4NormalRoutePriority', 'ipv6NormalRoutePriority']) assert.equal(s[f], null, f);
    } },
    { name: 'nodeMeshPassword', doc: config({ nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }), ok: field('nodeMeshPassword', { secretKeyRef: { name: 's', key: 'k' } }) },
    { name: 'nodeMeshPassword with the mesh on', doc: config({ nodeToNodeMeshEnabled: true, nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }), ok: field('nodeToNodeMeshEnabled', true) },
    { name: 'nodeMeshPassword with the mesh off', doc: config({ nodeToNodeMeshEnabled: false, nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }), error: ['spec.nodeMeshPassword', /must not be set when spec\.nodeToNodeMeshEnabled is false/] },
    { name: 'nodeMeshPassword without a key', doc: config({ nodeMeshPassword: { secretKeyRef: { name: 's' } } }), error: ['spec.nodeMeshPassword.secretKeyRef.key', /./] },
    { name: 'nodeMeshMaxRestartTime', doc: config({ nodeMeshMaxRestartTime: '10s' }), ok: field('nodeMeshMaxRestartTime', '10') },
    { name: 'nodeMeshMaxRestartTime with the mesh off', doc: config({ nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: '10s' }), error: ['spec.nodeMeshMaxRestartTime', /nodeToNodeMeshEnabled is false/] },
    { name: 'nodeMeshMaxRestartTime bad', doc: config({ nodeMeshMaxRestartTime: '10 s' }), error: ['spec.nodeMeshMaxRestartTime', /not a duration/] },
    { name: 'bindMode NodeIP', doc: config({ bindMode: 'NodeIP' }), ok: field('bindMode', 'NodeIP') },
    { name: 'bindMode other', doc: config({ bindMode: 'nodeip' }), error: ['spec.bindMode', /None, NodeIP/] },
    { name: 'ignoredInterfaces', doc: config({ ignoredInterfaces: ['iface-1', 'eth*', 'a.b_c-*'] }), ok: field('ignoredInterfaces', ['iface-1', 'eth*', 'a.b_c-*']) },
    { name: 'ignoredInterfaces empty (present)', doc: config({ ignoredInterfaces: [] }), ok: field('ignoredInterfaces', []) },
    { name: 'ignoredInterfaces "*"', doc: config({ ignoredInterfaces: ['eth0', '*'] }), error: ['spec.ignoredInterfaces[1]', /must not be "\*" alone/] },
    { name: 'ignoredInterfaces of 16 characters', doc: config({ ignoredInterfaces: ['x'.repeat(16)] }), error: ['spec.ignoredInterfaces[0]', /1\.\.15 characters/] },
    { name: 'ignoredInterfaces with a quote', doc: config({ ignoredInterfaces: ['eth0"'] }), error: ['spec.ignoredInterfaces[0]', /1\.\.15 characters/] },
    { name: 'ignoredInterfaces is a set', doc: config({ ignoredInterfaces: ['a', 'b', 'a'] }), error: ['spec.ignoredInterfaces[2]', /duplicate of spec\.ignoredInterfaces\[0\]/] },
    { name: 'serviceLoadBalancerIPs, with an empty entry', doc: config({ serviceLoadBalancerIPs: [{ cidr: '80.15.0.0/24' }, {}, { cidr: '80.15.1.7' }, { cidr: 'fd00:96::/112' }] }), ok: field('serviceLoadBalancerIPs', [{ cidr: '80.15.0.0/24' }, { cidr: '' }, { cidr: '80.15.1.7' }, { cidr: 'fd00:96::/112' }]) },
    { name: 'serviceLoadBalancerIPs with host bits', doc: config({ serviceLoadBalancerIPs: [{ cidr: '80.15.0.1/24' }] }), error: ['spec.serviceLoadBalancerIPs[0].cidr', /without host bits/] },
    { name: 'serviceClusterIPs and serviceExternalIPs with empty entries', doc: config({ serviceClusterIPs: [{ cidr: '10.101.0.0/16' }, {}], serviceExternalIPs: [{ cidr: '' }] }), ok: field('serviceClusterIPs', [{ cidr: '10.101.0.0/16' }, { cidr: '' }]) },
    { name: 'serviceClusterIPs bad', doc: config({ serviceClusterIPs: [{ cidr: '10.101.0.0' }] }), error: ['spec.serviceClusterIPs[0].cidr', /not a CIDR/] },
    { name: 'serviceLoadBalancerAggregation Disabled', doc: config({ serviceLoadBalancerAggregation: 'Disabled' }), ok: field('serviceLoadBalancerAggregation', 'Disabled') },
    { name: 'serviceLoadBalancerAggregation other', doc: config({ serviceLoadBalancerAggregation: 'Off' }), error: ['spec.serviceLoadBalancerAggregation', /Enabled, Disabled/] },
    { name: 'programClusterRoutes Disabled', doc: config({ programClusterRoutes: 'Disabled' }), ok: field('programClusterRoutes', 'Disabled') },
    { name: 'programClusterRoutes other', doc: config({ programClusterRoutes: 'disabled' }), error: ['spec.programClusterRoutes', /Enabled, Disabled/] },
    { name: 'route priorities at both ends', doc: config({ ipv4NormalRoutePriority: 1, ipv6NormalRoutePriority: 2147483646 }), ok: field('ipv6NormalRoutePriority', 2147483646) },
    { name: 'ipv4NormalRoutePriority 0', doc: config({ ipv4NormalRoutePriority: 0 }), error: ['spec.ipv4NormalRoutePriority', /1\.\.2147483646/] },
    { name: 'ipv6NormalRoutePriority 2147483647', doc: config({ ipv6NormalRoutePriority: 2147483647 }), error: ['spec.ipv6NormalRoutePriority', /1\.\.2147483646/] },
    { name: 'logSeverityScreen Trace, any case', doc: config({ logSeverityScreen: 'trace' }), ok: field('logSeverityScreen', 'trace') },
    { name: 'logSeverityScreen empty', doc: config({ logSeverityScreen: '' }), ok: field('logSeverityScreen', '') },
    { name: 'logSeverityScreen other', doc: config({ logSeverityScreen: 'Verbose' }), error: ['spec.logSeverityScreen', /Trace, Debug, Info, Warning, Error, Fatal/] },
  ];
  runCases(rows);
});

describe('IPPool: disableBGPExport and the encapsulation rules', () => {
  const pool = (s: Record<string, unknown>) => doc('IPPool', 'p', s);
  const warning = (pattern: RegExp) => (_r: Resource, diagnostics: readonly { severity: string; field?: string; message: string }[]) =>
    assert.ok(diagnostics.some((d) => d.severity === 'warning' && d.field === 'spec.ipipMode' && pattern.test(d.message)), JSON.stringify(diagnostics));
  runCases([
    { name: 'disableBGPExport true', doc: pool({ cidr: '192.168.2.0/24', disableBGPExport: true }), ok: (r) => assert.equal((r as IPPool).spec.disableBGPExport, true) },
    { name: 'disableBGPExport unset reads false', doc: pool({ cidr: '192.168.2.0/24' }), ok: (r, d) => {
      assert.equal((r as IPPool).spec.disableBGPExport, false);
      assert.deepEqual(d, []);
    } },
    { name: 'disableBGPExport as text', doc: pool({ cidr: '192.168.2.0/24', disableBGPExport: 'yes' }), error: ['spec.disableBGPExport', /./] },
    { name: 'IPIP and VXLAN both: a warning, rendered as confd does', doc: pool({ cidr: '10.8.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), ok: warning(/IPIP and VXLAN cannot both be enabled/) },
    { name: 'IPIP on IPv6: a warning', doc: pool({ cidr: 'fd00::/64', ipipMode: 'CrossSubnet' }), ok: warning(/IPIP is not allowed on an IPv6 pool/) },
  ]);
});

describe('BlockAffinity of type virtual', () => {
  test('loads', () => {
    const r = loadOne(doc('BlockAffinity', 'lb-10-2-0-1-32', { node: 'loadbalancer', cidr: '10.2.0.1/32', state: 'confirmed', type: 'virtual', deleted: '' }, 'crd.projectcalico.org/v1'));
    assert.ok(r.resource);
    assert.deepEqual(r.diagnostics, []);
  });
});
