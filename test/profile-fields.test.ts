/**
 * What each output profile honours (src/render/input-fields.ts): the v3.17 profile is never
 * silent about a v3.32 field or kind it leaves out (one warning per object naming its fields, in
 * `render` and once per warning in `watch`), and `view --schema` lists each profile's fields.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseManifestText } from '../src/model/load.js';
import { computeNodeView, RenderStore } from '../src/render/index.js';
import { inputFields } from '../src/render/input-fields.js';
import { calicoVersions } from '../src/render/profiles.js';
import { runCli } from './helpers/run-cli.js';
import { snap, y } from './helpers/snap.js';
import { filesIn, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-fields-'));
const running: WatchProcess[] = [];
after(async () => {
  for (const w of running) await w.stop();
  rmSync(work, { recursive: true, force: true });
});

const notRendered = 'not rendered by the Calico 3.17 profile (--calico-version 3.17); use 3.32';

const manifest =
  y.config('{serviceClusterIPs: [{cidr: 10.96.0.0/16}], bindMode: NodeIP, ignoredInterfaces: [eth9], programClusterRoutes: Enabled, ipv4NormalRoutePriority: 1024}') +
  y.config('{ignoredInterfaces: [eth8]}', 'node.a') +
  y.node('a', '{ipv4Address: 10.0.0.1/24}') +
  y.node('b', '{ipv4Address: 10.0.0.2/24}') +
  y.peer('tor', '{peerIP: 10.0.0.254, asNumber: 65001, ttlSecurity: 1, localASNumber: 65002, sourceAddress: UseNodeIP, reversePeering: Auto}') +
  y.peer('plain', '{peerIP: 10.0.0.253, asNumber: 65001, sourceAddress: UseNodeIP, ttlSecurity: 0, nextHopMode: Auto}') +
  y.peer('pods', '{localWorkloadSelector: "has(x)", asNumber: 65010, filters: [f]}') +
  y.pool('p', '{cidr: 10.244.0.0/16, disableBGPExport: true}') +
  y.pool('q', '{cidr: 10.245.0.0/16, disableBGPExport: false}') +
  'apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata: {name: f}\nspec: {exportV4: [{action: Reject, matchOperator: In, cidr: 10.9.0.0/16}]}\n---\n' +
  'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints: [{addresses: [10.244.1.1], nodeName: a}]\n---\n' +
  'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: api-1, namespace: default, labels: {kubernetes.io/service-name: api}}\naddressType: IPv4\nendpoints: [{addresses: [10.244.1.2], nodeName: a}]\n---\n' +
  'apiVersion: v1\nkind: Endpoints\nmetadata: {name: api, namespace: default}\nsubsets: [{addresses: [{ip: 10.244.1.2, nodeName: a}]}]\n---\n' +
  'apiVersion: bird-confd/v1\nkind: WorkloadEndpointStatus\nmetadata: {name: w1}\nspec: {ipv4Nets: [10.244.3.3/32], bgpPeerName: pods}\n';

describe('the Calico 3.17 profile is never silent about what it does not render', () => {
  test('render --calico-version 3.17 warns once per object, naming its fields; 3.32 does not', async () => {
    const file = join(work, 'cluster.yaml');
    writeFileSync(file, manifest);
    const r317 = await runCli(['render', '-f', file, '--node', 'a', '--calico-version', '3.17']);
    assert.equal(r317.code, 0, r317.stderr);
    const lines = r317.stderr.split('\n').filter((l) => l.includes(notRendered) || l.includes('EndpointSlices are'));
    const expected = [
      'BGPConfiguration/default: spec.bindMode, spec.ignoredInterfaces',
      'BGPPeer/pods: spec.filters, spec.localWorkloadSelector',
      'BGPPeer/tor: spec.ttlSecurity, spec.localASNumber',
      'IPPool/p: spec.disableBGPExport',
      'BGPFilter/f: this kind is',
      'WorkloadEndpointStatus/w1: this kind is',
      'EndpointSlice/default/web-1: Service web has no v1 Endpoints',
    ];
    for (const e of expected) assert.equal(lines.filter((l) => l.includes(`${e}`)).length, 1, `one warning "${e}" in:\n${r317.stderr}`);
    // Set to what v3.17 does anyway, on a node.<name> configuration (v3.32 reads only default), or a slice whose Service has Endpoints: no warning.
    assert.equal(lines.length, expected.length, r317.stderr);
    assert.match(r317.stderr, /^warning: .*cluster\.yaml: BGPPeer\/tor: spec\.ttlSecurity, spec\.localASNumber: not rendered by the Calico 3\.17 profile \(--calico-version 3\.17\); use 3\.32$/m);

    const r332 = await runCli(['render', '-f', file, '--node', 'a', '--calico-version', '3.32']);
    assert.equal(r332.code, 0, r332.stderr);
    assert.doesNotMatch(r332.stderr, /not rendered by|EndpointSlices are/);
  });

  test('a field set on a node-level BGPConfiguration that Calico reads only from "default" is said to be ignored, by both profiles', async () => {
    const file = join(work, 'node-level.yaml');
    writeFileSync(file, y.config('{asNumber: 64512}') + y.config('{listenPort: 1790, asNumber: 65000, ignoredInterfaces: [eth8]}', 'node.a') + y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', '{ipv4Address: 10.0.0.2/24}'));
    for (const version of calicoVersions) {
      const r = await runCli(['render', '-f', file, '--node', 'a', '--calico-version', version]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l.includes('ignored on a node-level BGPConfiguration'));
      assert.equal(lines.length, 1, r.stderr);
      // listenPort is read there (and rendered); asNumber and ignoredInterfaces are not.
      assert.match(lines[0]!, /BGPConfiguration\/node\.a: spec\.asNumber, spec\.ignoredInterfaces: ignored/);
      assert.match(r.stdout, /port 1790/);
    }
  });

  test('the warnings are kept per object and kind in the render store: an unrelated change recomputes nothing', () => {
    const s = snap(manifest);
    const store = new RenderStore();
    const first = computeNodeView(s, 'a', { calicoVersion: '3.17' }, store);
    const cachedPeers = store.unrendered317Kinds.get('BGPPeer');
    assert.ok(cachedPeers && cachedPeers.diagnostics.length === 2);
    s.apply(parseManifestText(y.node('b', '{ipv4Address: 10.0.0.3/24}'), 'b.yaml').resources[0]!);
    const second = computeNodeView(s, 'a', { calicoVersion: '3.17' }, store);
    assert.equal(store.unrendered317Kinds.get('BGPPeer'), cachedPeers, 'a Node change recomputed the BGPPeer warnings');
    const count = (r: typeof first) => r.diagnostics.filter((d) => d.message.includes(notRendered)).length;
    assert.equal(count(second), count(first));
    // A BGPPeer change recomputes that kind, from per-object results for the others.
    s.apply(parseManifestText(y.peer('tor', '{peerIP: 10.0.0.254, asNumber: 65001}'), 'tor.yaml').resources[0]!);
    const third = computeNodeView(s, 'a', { calicoVersion: '3.17' }, store);
    assert.equal(count(third), count(first) - 1);
  });

  test('watch --calico-version 3.17 logs each such warning once, not on every render', async () => {
    const dir = join(work, 'watch');
    mkdirSync(dir);
    const nodes = (ip: number) => y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', `{ipv4Address: 10.0.0.${ip}/24}`);
    writeFileSync(join(dir, 'peers.yaml'), y.peer('tor', '{peerIP: 10.0.0.254, asNumber: 65001, ttlSecurity: 1}'));
    writeFileSync(join(dir, 'nodes.yaml'), nodes(2));
    const out = join(dir, 'out');
    const w = startWatch(['--datastore', 'file', '-f', dir, '--node', 'a', '--out', out, '--debounce', '20', '--no-check', '--no-reload', '--calico-version', '3.17']);
    running.push(w);
    const applies = () => (w.output().match(/applied a new file set/g) ?? []).length;
    await until('first apply', () => applies() === 1);
    for (const ip of [3, 4]) {
      writeFileSync(join(dir, 'nodes.yaml'), nodes(ip));
      await until(`b at 10.0.0.${ip} applied`, () => (filesIn(out).get('bird.cfg') ?? '').includes(`neighbor 10.0.0.${ip} as 64512;`));
    }
    assert.equal(applies(), 3);
    const warnings = () => (w.output().match(/BGPPeer\/tor: spec\.ttlSecurity: not rendered by the Calico 3\.17 profile/g) ?? []).length;
    assert.equal(warnings(), 1, w.output());
    // A change of its object makes a new warning, logged once more.
    writeFileSync(join(dir, 'peers.yaml'), y.peer('tor', '{peerIP: 10.0.0.254, asNumber: 65001, ttlSecurity: 1, keepaliveTime: 10s}'));
    await until('the changed warning', () => /BGPPeer\/tor: spec\.keepaliveTime, spec\.ttlSecurity: not rendered/.test(w.output()));
    assert.equal(warnings(), 1);
  });
});

describe('view --schema: which input fields each profile renders', () => {
  test('x-bird-confd-profiles comes from the one table in src/render/input-fields.ts', async () => {
    // The built CLI, as installed: the schema is generated at build time (npm run build).
    const r = spawnSync(process.execPath, ['bin/bird-confd.js', 'view', '--schema'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const schema = JSON.parse(r.stdout) as { 'x-bird-confd-profiles': Record<string, { view: string; renders: Record<string, string[]>; notRendered: Record<string, string[]> }> };
    const profiles = schema['x-bird-confd-profiles'];
    assert.deepEqual(Object.keys(profiles), [...calicoVersions]);
    assert.ok(profiles['3.17']!.notRendered.BGPPeer!.includes('spec.ttlSecurity'));
    assert.ok(profiles['3.32']!.renders.BGPPeer!.includes('spec.ttlSecurity'));
    assert.ok(profiles['3.17']!.renders.Endpoints!.includes('subsets'));
    assert.ok(profiles['3.32']!.renders.BGPFilter!.length === 1);
    for (const v of calicoVersions) {
      const listed = Object.values(profiles[v]!.renders).flat().length + Object.values(profiles[v]!.notRendered).flat().length;
      assert.equal(listed, inputFields.length, `every field of the table is listed for ${v}`);
      assert.equal(profiles[v]!.view, `#/definitions/NodeView${v.replace('.', '')}`);
    }
  });
});
