import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BGPFilter } from '../src/model/bgp-filter.js';
import { formatDiagnostic } from '../src/model/diagnostics.js';
import type { Resource } from '../src/model/resources.js';
import { doc, loadOne, runCases, type ModelCase } from './helpers/model-cases.js';

const filter = (spec: Record<string, unknown>, name = 'f', apiVersion?: string) => doc('BGPFilter', name, spec, apiVersion);
/** A filter whose importV4 (or another list) holds one rule, after two good ones so that paths carry an index. */
const withRule = (rule: Record<string, unknown>, list = 'importV4') => filter({ [list]: [{ action: 'Accept' }, { action: 'Reject' }, rule] });
const rules = (r: Resource) => (r as BGPFilter).spec;

describe('BGPFilter: a full rule parses into what the view reads', () => {
  test('every rule field, both families, in order', () => {
    const r = loadOne(filter({
      importV4: [{ action: 'Accept', matchOperator: 'In', cidr: '44.0.0.0/16', prefixLength: { min: 16, max: 24 }, source: 'RemotePeers', interface: 'eth*', peerType: 'iBGP', communities: { values: ['65000:100'] }, asPathPrefix: [65000, '1.10'], priority: 100,
        operations: [{ addCommunity: { value: '65001:300:400' } }, { prependASPath: { prefix: [65000, 65001] } }, { setPriority: { value: 200 } }] }],
      exportV6: [{ action: 'Reject', matchOperator: 'NotEqual', cidr: '9000::0/64' }, { action: 'Accept' }],
    }));
    assert.deepEqual(r.diagnostics, []);
    const s = rules(r.resource!);
    assert.deepEqual(s.exportV4, []);
    assert.deepEqual(s.importV6, []);
    assert.deepEqual(s.importV4, [{
      action: 'Accept', cidr: '44.0.0.0/16', matchOperator: 'In', prefixLength: { min: 16, max: 24 }, source: 'RemotePeers', interface: 'eth*', peerType: 'iBGP',
      communities: { values: ['65000:100'] }, asPathPrefix: ['65000', '65546'], priority: 100,
      operations: [{ type: 'addCommunity', value: '65001:300:400' }, { type: 'prependASPath', prefix: ['65000', '65001'] }, { type: 'setPriority', value: 200 }],
    }]);
    // The cidr is kept as written: Calico prints it verbatim.
    assert.equal(s.exportV6[0]!.cidr, '9000::0/64');
    assert.deepEqual(s.exportV6[1], { action: 'Accept', cidr: null, matchOperator: null, prefixLength: null, source: null, interface: null, peerType: null, communities: null, asPathPrefix: [], priority: null, operations: [] });
  });
  test('the CRD storage form and an empty spec load', () => {
    assert.ok(loadOne(filter({ exportV4: [{ action: 'Accept', interface: '*' }] }, 'f', 'crd.projectcalico.org/v1')).resource);
    const empty = loadOne({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'e' } });
    assert.deepEqual(rules(empty.resource!), { exportV4: [], importV4: [], exportV6: [], importV6: [] });
  });
  test('the error names the filter and the rule path on one line', () => {
    const r = loadOne(withRule({ action: 'Accept', interface: 'eth0"; } accept; #' }));
    assert.equal(r.resource, undefined);
    assert.match(r.diagnostics.map(formatDiagnostic).join('\n'), /^case\.yaml: BGPFilter\/f: spec\.importV4\[2\]\.interface: must be "\*" or 1\.\.15 characters/);
  });
});

describe('BGPFilter: rules Calico refuses, or that confd or BIRD would fail on', () => {
  const rows: ModelCase[] = [
    { name: 'action missing', doc: withRule({ cidr: '44.0.0.0/16', matchOperator: 'In' }), error: ['spec.importV4[2].action', /Accept, Reject/] },
    { name: 'action lower case', doc: withRule({ action: 'accept' }), error: ['spec.importV4[2].action', /Accept, Reject/] },
    { name: 'cidr without matchOperator', doc: withRule({ action: 'Accept', cidr: '44.0.0.0/16' }), error: ['spec.importV4[2].matchOperator', /required with cidr/] },
    { name: 'matchOperator without cidr', doc: withRule({ action: 'Accept', matchOperator: 'In' }), error: ['spec.importV4[2].matchOperator', /needs cidr/] },
    { name: 'unknown matchOperator', doc: withRule({ action: 'Accept', cidr: '44.0.0.0/16', matchOperator: 'Contains' }), error: ['spec.importV4[2].matchOperator', /Equal, NotEqual, In, NotIn/] },
    { name: 'IPv6 cidr in a V4 list', doc: withRule({ action: 'Accept', cidr: '5000::/64', matchOperator: 'In' }), error: ['spec.importV4[2].cidr', /not an IPv4 network/] },
    { name: 'IPv4 cidr in a V6 list', doc: withRule({ action: 'Accept', cidr: '44.0.0.0/16', matchOperator: 'In' }, 'exportV6'), error: ['spec.exportV6[2].cidr', /not an IPv6 network/] },
    { name: 'cidr with host bits', doc: withRule({ action: 'Accept', cidr: '44.0.0.1/16', matchOperator: 'In' }), error: ['spec.importV4[2].cidr', /without host bits/] },
    { name: 'cidr with a zone id', doc: withRule({ action: 'Accept', cidr: 'fe80::%eth0/64', matchOperator: 'In' }, 'importV6'), error: ['spec.importV6[2].cidr', /zone id/] },
    { name: 'cidr longer than 43 characters (V6)', doc: withRule({ action: 'Accept', cidr: '1111:2222:3333:4444:5555:6666:123.123.123.123/128', matchOperator: 'In' }, 'importV6'), error: ['spec.importV6[2].cidr', /at most 43 characters/] },
    { name: 'a bare IP cidr is allowed', doc: withRule({ action: 'Accept', cidr: '44.0.0.1', matchOperator: 'Equal' }), ok: (r) => assert.equal(rules(r).importV4[2]!.cidr, '44.0.0.1') },
    { name: 'prefixLength without cidr', doc: withRule({ action: 'Accept', prefixLength: { min: 8 } }), error: ['spec.importV4[2].prefixLength', /needs cidr/] },
    { name: 'prefixLength with a bare IP cidr', doc: withRule({ action: 'Accept', cidr: '44.0.0.1', matchOperator: 'In', prefixLength: { max: 32 } }), error: ['spec.importV4[2].cidr', /address\/length when prefixLength is set/] },
    { name: 'prefixLength min above 32', doc: withRule({ action: 'Accept', cidr: '44.0.0.0/16', matchOperator: 'In', prefixLength: { min: 33 } }), error: ['spec.importV4[2].prefixLength.min', /0\.\.32/] },
    { name: 'prefixLength max above 128 (V6)', doc: withRule({ action: 'Accept', cidr: '5000::/64', matchOperator: 'In', prefixLength: { max: 129 } }, 'importV6'), error: ['spec.importV6[2].prefixLength.max', /0\.\.128/] },
    { name: 'prefixLength range empty after the cidr length', doc: withRule({ action: 'Accept', cidr: '44.0.0.0/16', matchOperator: 'In', prefixLength: { max: 8 } }), error: ['spec.importV4[2].prefixLength', /\{16,8\}.*BIRD refuses it/] },
    { name: 'prefixLength up to 128 in V6', doc: withRule({ action: 'Accept', cidr: '5000::/64', matchOperator: 'In', prefixLength: { min: 64, max: 128 } }, 'importV6'), ok: (r) => assert.deepEqual(rules(r).importV6[2]!.prefixLength, { min: 64, max: 128 }) },
    { name: 'source other than RemotePeers', doc: withRule({ action: 'Accept', source: 'Local' }), error: ['spec.importV4[2].source', /RemotePeers/] },
    { name: 'interface of 16 characters', doc: withRule({ action: 'Accept', interface: 'x'.repeat(16) }), error: ['spec.importV4[2].interface', /1\.\.15 characters/] },
    { name: 'interface with a space', doc: withRule({ action: 'Accept', interface: 'eth 0' }), error: ['spec.importV4[2].interface', /1\.\.15 characters/] },
    { name: 'interface with a backslash', doc: withRule({ action: 'Accept', interface: 'eth\\' }), error: ['spec.importV4[2].interface', /1\.\.15 characters/] },
    { name: 'interface empty', doc: withRule({ action: 'Accept', interface: '' }), error: ['spec.importV4[2].interface', /1\.\.15 characters/] },
    { name: 'peerType lower case', doc: withRule({ action: 'Accept', peerType: 'ebgp' }), error: ['spec.importV4[2].peerType', /eBGP, iBGP/] },
    { name: 'communities with two values', doc: withRule({ action: 'Accept', communities: { values: ['1:2', '3:4'] } }), error: ['spec.importV4[2].communities.values', /exactly one value/] },
    { name: 'communities with no value', doc: withRule({ action: 'Accept', communities: { values: [] } }), error: ['spec.importV4[2].communities.values', /exactly one value/] },
    { name: 'community with a 17-bit part', doc: withRule({ action: 'Accept', communities: { values: ['65536:1'] } }), error: ['spec.importV4[2].communities.values[0]', /not a community value/] },
    { name: 'community with four parts', doc: withRule({ action: 'Accept', communities: { values: ['1:2:3:4'] } }), error: ['spec.importV4[2].communities.values[0]', /not a community value/] },
    { name: 'community with a leading zero', doc: withRule({ action: 'Accept', communities: { values: ['01:2'] } }), error: ['spec.importV4[2].communities.values[0]', /not a community value/] },
    { name: 'community injection', doc: withRule({ action: 'Accept', communities: { values: ['1:2)); accept; #'] } }), error: ['spec.importV4[2].communities.values[0]', /./] },
    { name: 'large community at the limit', doc: withRule({ action: 'Accept', communities: { values: ['4294967295:0:4294967295'] } }), ok: (r) => assert.deepEqual(rules(r).importV4[2]!.communities, { values: ['4294967295:0:4294967295'] }) },
    { name: 'asPathPrefix not an AS number', doc: withRule({ action: 'Accept', asPathPrefix: [65000, 'x'] }), error: ['spec.importV4[2].asPathPrefix[1]', /AS number/] },
    { name: 'priority 0', doc: withRule({ action: 'Accept', priority: 0 }), error: ['spec.importV4[2].priority', /1\.\.2147483646/] },
    { name: 'priority as text', doc: withRule({ action: 'Accept', priority: '100' }), error: ['spec.importV4[2].priority', /1\.\.2147483646/] },
    { name: 'operations with Reject', doc: withRule({ action: 'Reject', operations: [{ setPriority: { value: 5 } }] }), error: ['spec.importV4[2].operations', /only allowed with action Accept/] },
    { name: 'operation with two fields', doc: withRule({ action: 'Accept', operations: [{ setPriority: { value: 5 }, addCommunity: { value: '1:2' } }] }), error: ['spec.importV4[2].operations[0]', /exactly one of/] },
    { name: 'operation with no field', doc: withRule({ action: 'Accept', operations: [{}] }), error: ['spec.importV4[2].operations[0]', /exactly one of/] },
    { name: 'addCommunity without value', doc: withRule({ action: 'Accept', operations: [{ addCommunity: {} }] }), error: ['spec.importV4[2].operations[0].addCommunity.value', /./] },
    { name: 'addCommunity bad', doc: withRule({ action: 'Accept', operations: [{ addCommunity: { value: '1:2:x' } }] }), error: ['spec.importV4[2].operations[0].addCommunity.value', /not a community value/] },
    { name: 'prependASPath of 11', doc: withRule({ action: 'Accept', operations: [{ prependASPath: { prefix: Array(11).fill(1) } }] }), error: ['spec.importV4[2].operations[0].prependASPath.prefix', /1\.\.10 AS numbers/] },
    { name: 'prependASPath empty', doc: withRule({ action: 'Accept', operations: [{ prependASPath: { prefix: [] } }] }), error: ['spec.importV4[2].operations[0].prependASPath.prefix', /1\.\.10 AS numbers/] },
    { name: 'setPriority 2147483647', doc: withRule({ action: 'Accept', operations: [{ setPriority: { value: 2147483647 } }] }), error: ['spec.importV4[2].operations[0].setPriority.value', /1\.\.2147483646/] },
    { name: 'eleven operations', doc: withRule({ action: 'Accept', operations: Array(11).fill({ setPriority: { value: 1 } }) }), error: ['spec.importV4[2].operations', /at most 10/] },
    { name: 'a filter name BIRD cannot quote', doc: filter({}, 'bad name'), error: ['metadata.name', /letters, digits/] },
  ];
  runCases(rows);
});
