import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { parseManifestText, snapshotOf } from '../src/model/load.js';
import { formatDiagnostic } from '../src/model/diagnostics.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import { checkParses } from './helpers/bird.js';

/** Values that try to break out of a BIRD string, statement, block or comment. */
const hostile: Record<string, string> = {
  quote: 'x"y',
  semicolon: 'x;y',
  'close brace': 'x}y',
  'open brace': 'x{y',
  newline: 'x\ny',
  hash: 'x#y',
  'comment start': 'x/*y',
  backslash: 'x\\y',
  nul: 'x\u0000y',
  'non-ASCII': 'ñ€😀',
  '10,000 characters': 'x'.repeat(10_000),
  injection: '1.2.3.4"; }\nprotocol bgp evil { neighbor 6.6.6.6 as 666; } #',
  // Characters an address parser may take for part of an address (issue 13: a zone id reached
  // protocol names, which BIRD rejects).
  'zone id': 'fe80::2%eth0',
  'encoded zone id': 'fe80::2%25eth0',
  'zone id with port': '[fe80::2%eth0]:179',
  percent: '%25',
  slash: '10.0.0.7/',
  space: '10.0.0.7 ',
  'unicode digits': '\u0661\u0660.0.0.7',
  'fullwidth digits': '\uff11\uff10.0.0.7',
  'open bracket': '[',
  'close bracket': ']',
  brackets: '[10.0.0.7]',
};

type Doc = Record<string, unknown>;
const v3 = 'projectcalico.org/v3';

/** A small cluster; `a` is the node rendered. */
function base(): Doc[] {
  return [
    { apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { serviceClusterIPs: [{ cidr: '10.96.0.0/16' }], communities: [{ name: 'c1', value: '64512:1' }], prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['c1'] }] } },
    { apiVersion: v3, kind: 'Node', metadata: { name: 'a', labels: { rack: 'r1' } }, spec: { bgp: { ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::1/64' } } },
    { apiVersion: v3, kind: 'Node', metadata: { name: 'b', labels: { rack: 'r1' } }, spec: { bgp: { ipv4Address: '10.0.0.2/24' } } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k', annotations: { 'projectcalico.org/IPv4Address': '10.0.0.3/24' } } },
    { apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.1', asNumber: 65001, password: { secretKeyRef: { name: 'pw', key: 'tor' } } } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pw', namespace: 'kube-system' }, stringData: { tor: 'fake-adversarial-pw' } },
    { apiVersion: v3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.244.0.0/16', ipipMode: 'Never' } },
    { apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: 'blk' }, spec: { node: 'a', cidr: '10.244.1.0/26', state: 'confirmed' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', clusterIP: '10.96.0.10', externalIPs: ['10.96.0.11'] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'svc', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.5', nodeName: 'a' }] }] },
    { apiVersion: v3, kind: 'Node', metadata: { name: 'c' }, spec: { bgp: { ipv4Address: '10.0.0.4/24', ipv6Address: 'fd00::4/64' } } },
    { apiVersion: v3, kind: 'BGPFilter', metadata: { name: 'f' }, spec: { importV4: [{ action: 'Accept', matchOperator: 'In', cidr: '44.0.0.0/16', interface: 'eth*', communities: { values: ['65000:100'] } }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'svc-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'svc' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'a' }] },
    { apiVersion: 'bird-confd/v1', kind: 'WorkloadEndpointStatus', metadata: { name: 'pod1' }, spec: { ifaceName: 'cali1', ipv4Nets: ['10.244.1.6/32'], bgpPeerName: 'tor' } },
  ];
}

/** Where a hostile value is placed: every string that can reach output. */
const placements: Record<string, (docs: Doc[], v: string) => void> = {
  'node name': (d, v) => { (d[2]!.metadata as Doc).name = v; },
  'label value': (d, v) => { ((d[2]!.metadata as Doc).labels as Doc).rack = v; },
  'label key': (d, v) => { ((d[2]!.metadata as Doc).labels as Doc)[v] = 'x'; },
  'BGPPeer name': (d, v) => { (d[4]!.metadata as Doc).name = v; },
  'BGPPeer peerIP': (d, v) => { (d[4]!.spec as Doc).peerIP = v; },
  'BGPPeer asNumber': (d, v) => { (d[4]!.spec as Doc).asNumber = v; },
  'BGPPeer nodeSelector': (d, v) => { (d[4]!.spec as Doc).nodeSelector = v; },
  'community value': (d, v) => { ((d[0]!.spec as Doc).communities as Doc[])[0]!.value = v; },
  'community name': (d, v) => { ((d[0]!.spec as Doc).communities as Doc[])[0]!.name = v; ((d[0]!.spec as Doc).prefixAdvertisements as Doc[])[0]!.communities = [v]; },
  'prefix CIDR': (d, v) => { ((d[0]!.spec as Doc).prefixAdvertisements as Doc[])[0]!.cidr = v; },
  'Secret name': (d, v) => { ((d[4]!.spec as Doc).password as { secretKeyRef: Doc }).secretKeyRef.name = v; },
  'Secret key': (d, v) => { ((d[4]!.spec as Doc).password as { secretKeyRef: Doc }).secretKeyRef.key = v; (d[5]!.stringData as Doc)[v] = 'fake'; },
  'Secret value': (d, v) => { (d[5]!.stringData as Doc).tor = v; },
  'service cluster IP': (d, v) => { (d[8]!.spec as Doc).clusterIP = v; },
  'service external IP': (d, v) => { (d[8]!.spec as Doc).externalIPs = [v]; },
  'service CIDR': (d, v) => { (d[0]!.spec as Doc).serviceClusterIPs = [{ cidr: v }]; },
  'pool CIDR': (d, v) => { (d[6]!.spec as Doc).cidr = v; },
  'Calico annotation': (d, v) => { ((d[3]!.metadata as Doc).annotations as Doc)['projectcalico.org/IPv4Address'] = v; },
  'block state': (d, v) => { (d[7]!.spec as Doc).state = v; },
  'Node IPv4 address': (d, v) => { ((d[10]!.spec as Doc).bgp as Doc).ipv4Address = v; },
  'Node IPv6 address': (d, v) => { ((d[10]!.spec as Doc).bgp as Doc).ipv6Address = v; },
  'Calico IPv6 annotation': (d, v) => { ((d[3]!.metadata as Doc).annotations as Doc)['projectcalico.org/IPv6Address'] = v; },
  'BGPPeer reachableBy': (d, v) => { (d[4]!.spec as Doc).reachableBy = v; },
  'BGPPeer filters': (d, v) => { (d[4]!.spec as Doc).filters = [v]; },
  'BGPPeer keepaliveTime': (d, v) => { (d[4]!.spec as Doc).keepaliveTime = v; },
  'BGPFilter name': (d, v) => { (d[11]!.metadata as Doc).name = v; },
  'BGPFilter cidr': (d, v) => { ((d[11]!.spec as Doc).importV4 as Doc[])[0]!.cidr = v; },
  'BGPFilter interface': (d, v) => { ((d[11]!.spec as Doc).importV4 as Doc[])[0]!.interface = v; },
  'BGPFilter community': (d, v) => { (((d[11]!.spec as Doc).importV4 as Doc[])[0]!.communities as Doc).values = [v]; },
  'ignoredInterfaces': (d, v) => { (d[0]!.spec as Doc).ignoredInterfaces = [v]; },
  'LoadBalancer range': (d, v) => { (d[0]!.spec as Doc).serviceLoadBalancerIPs = [{ cidr: v }]; },
  'service loadBalancerIP': (d, v) => { (d[8]!.spec as Doc).loadBalancerIP = v; },
  'service ingress IP': (d, v) => { d[8]!.status = { loadBalancer: { ingress: [{ ip: v }] } }; },
  'service clusterIPs': (d, v) => { (d[8]!.spec as Doc).clusterIPs = [v]; },
  'EndpointSlice address': (d, v) => { ((d[12]!.endpoints as Doc[])[0]!).addresses = [v]; },
  'endpoint status net': (d, v) => { (d[13]!.spec as Doc).ipv4Nets = [v]; },
};

const work = mkdtempSync(join(tmpdir(), 'bird-confd-adv-'));
after(() => rmSync(work, { recursive: true, force: true }));

function render(docs: Doc[]) {
  const text = docs.map((d) => stringify(d)).join('---\n');
  const loaded = parseManifestText(text, 'hostile.yaml');
  const r = renderNodeWithTemplates(snapshotOf(loaded.resources), 'a');
  return { files: r.files, diagnostics: [...loaded.diagnostics, ...r.diagnostics] };
}

const baseline = render(base());

describe('hostile values in every field that can reach output', () => {
  test('the baseline renders cleanly', () => {
    assert.deepEqual(baseline.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.match(baseline.files!.get('bird.cfg')!, /password "fake-adversarial-pw";/);
  });
  let n = 0;
  for (const [where, place] of Object.entries(placements)) {
    test(where, async (t) => {
      const outputs = new Map<string, string>();
      for (const [what, value] of Object.entries(hostile)) {
        const docs = base();
        place(docs, value);
        const r = render(docs);
        const label = `${where} = ${what}`;
        assert.ok(r.files, `${label}: node a no longer renders: ${r.diagnostics.map(formatDiagnostic).join('; ')}`);
        const all = [...r.files.values()].join('\n');
        // Never a config that says something else than intended: no injected protocol, statement or neighbour.
        assert.doesNotMatch(all, /evil|6\.6\.6\.6|as 666/, `${label}: injected text reached the config`);
        const problems = r.diagnostics.filter((d) => d.object);
        if (problems.length === 0) {
          // No diagnostic: the value is only data, or inside a BIRD string that cannot end early.
          const outsideStrings = all.replace(/"[^"\n]*"/g, '""');
          assert.equal(outsideStrings.includes(value) && /[\n"{};]/.test(value), false, `${label}: raw value in output without a diagnostic`);
        } else {
          for (const d of problems) {
            assert.ok(!formatDiagnostic(d).includes('\n'), `${label}: a diagnostic spans lines: ${JSON.stringify(formatDiagnostic(d))}`);
            // Refused with the object and the field named, never a bare message.
            assert.ok(d.field, `${label}: a diagnostic names no field: ${formatDiagnostic(d)}`);
          }
        }
        // Everything else still renders: the mesh session to b survives unless b itself was made bad.
        if (where !== 'node name') assert.match(r.files.get('bird.cfg')!, /protocol bgp Mesh_10_0_0_2 /, `${label}: other objects were lost`);
        const dir = join(work, `case-${++n}`);
        mkdirSync(dir);
        for (const [name, text] of r.files) writeFileSync(join(dir, name), text);
        outputs.set(dir, label);
      }
      await checkParses(t, [...outputs.keys()], `Calico's BIRD parses all ${outputs.size} outputs`, (dir) => `\n(${outputs.get(dir)})`);
    });
  }
});
