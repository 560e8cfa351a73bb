import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadManifestPaths, snapshotOf } from '../src/model/load.js';
import { topologyDot } from '../src/inspect/dot.js';
import { clusterTopology } from '../src/inspect/topology.js';
import { updateGolden } from './helpers/golden.js';
import { runCli } from './helpers/run-cli.js';
import { snap, y } from './helpers/snap.js';

const golden = join('fixtures', 'graph', 'example.dot');
const work = mkdtempSync(join(tmpdir(), 'bird-confd-graph-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('bird-confd graph', () => {
  test('golden DOT of fixtures/example (UPDATE_GOLDEN=1 rewrites it)', async () => {
    const r = await runCli(['graph', '-f', join('fixtures', 'example')]);
    assert.equal(r.code, 0, r.stderr);
    if (updateGolden) {
      mkdirSync(dirname(golden), { recursive: true });
      writeFileSync(golden, r.stdout);
    }
    assert.ok(existsSync(golden), `no golden file; run with UPDATE_GOLDEN=1 to create ${golden}`);
    assert.equal(r.stdout, readFileSync(golden, 'utf8'), `differs from ${golden}`);
  });

  test('the example: three meshed nodes, each family once per pair, rack peers as external peers', async () => {
    const loaded = await loadManifestPaths([join('fixtures', 'example')]);
    const t = clusterTopology(snapshotOf(loaded.resources), { secretNamespace: 'kube-system' });
    assert.deepEqual(t.nodes.map((n) => n.name), ['node-a', 'node-b', 'node-c']);
    assert.deepEqual(t.externalPeers.map((p) => `${p.ip} AS ${p.asNumbers.join()}`), ['172.20.1.1 AS 65001', '172.20.2.1 AS 65002', 'fd00:20:1::1 AS 65001']);
    const edges = t.sessions.map((s) => `${s.family} ${s.a} ${s.b} ${s.ends.map((e) => `${e.node}:${e.kind}`).join(',')}`);
    assert.deepEqual(edges.filter((e) => e.startsWith('ipv4')), [
      'ipv4 node:node-a node:node-b node-a:mesh,node-b:mesh',
      'ipv4 node:node-a node:node-c node-a:mesh,node-c:mesh',
      'ipv4 node:node-a peer:172.20.1.1 node-a:node',
      'ipv4 node:node-b node:node-c node-b:mesh,node-c:mesh',
      'ipv4 node:node-b peer:172.20.1.1 node-b:node',
      'ipv4 node:node-c peer:172.20.2.1 node-c:node',
    ]);
    assert.equal(t.sessions.filter((s) => s.family === 'ipv6').length, 5);
  });

  test('route reflectors, rr clients and one-sided node peerings', () => {
    const yaml =
      y.config('{nodeToNodeMeshEnabled: false}') +
      y.node('rr', '{ipv4Address: 10.0.0.1/24, routeReflectorClusterID: 1.0.0.1}', '{rr: "true"}') +
      y.node('c1', '{ipv4Address: 10.0.0.2/24}') +
      y.node('c2', '{ipv4Address: 10.0.0.3/24}') +
      y.peer('to-rr', "{nodeSelector: '!has(rr)', peerSelector: has(rr)}") +
      // c2 does not listen on 1790, so it does not peer back: a one-sided session.
      y.peer('lonely', '{node: c1, peerIP: "10.0.0.3:1790", asNumber: 64512}');
    const dot = topologyDot(clusterTopology(snap(yaml)));
    assert.match(dot, /^ {2}"node:rr" \[label="rr\\nAS 64512\\n10\.0\.0\.1\\nroute reflector 1\.0\.0\.1", style="rounded,bold", peripheries="2"\];$/m);
    assert.match(dot, /^ {2}"node:c1" -- "node:rr" \[style="bold", label="v4 node rr client", tooltip="c1: Node_10_0_0_1\\nrr: Node_10_0_0_2"\];$/m);
    assert.match(dot, /^ {2}"node:c1" -- "node:c2" \[style="bold", color="orange", label="v4 node one-sided: only c1", tooltip="c1: Node_10_0_0_3_port_1790"\];$/m);
  });

  test('--status marks Established sessions green and others red', async () => {
    const statusFile = join(work, 'node-a.json');
    const session = (name: string, state: string) => ({ name, state });
    writeFileSync(statusFile, JSON.stringify({ node: 'node-a', daemons: [{ daemon: 'bird', sessions: [session('Mesh_172_20_1_12', 'established'), session('Node_172_20_1_1', 'down')] }] }));
    const r = await runCli(['graph', '-f', join('fixtures', 'example'), '--status', statusFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}"node:node-a" -- "node:node-b" \[style="solid", color="darkgreen", penwidth="2", label="v4 mesh Established",/m);
    assert.match(r.stdout, /^ {2}"node:node-a" -- "peer:172\.20\.1\.1" \[style="bold", color="red", penwidth="2", label="v4 node down at node-a",/m);
    // node-a's IPv6 sessions are missing from its report: not running there, so red.
    assert.match(r.stdout, /^ {2}"node:node-a" -- "node:node-b" \[style="solid", color="red", penwidth="2", label="v6 mesh down at node-a",/m);
    // Sessions of other nodes have no status: unmarked.
    assert.match(r.stdout, /^ {2}"node:node-b" -- "node:node-c" \[style="solid", label="v4 mesh",/m);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{"daemons": []}');
    const e = await runCli(['graph', '-f', join('fixtures', 'example'), '--status', bad]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /not a "bird-confd status --output json" report/);
  });

  test('SVG through Graphviz dot', async () => {
    const out = join(work, 'example.svg');
    const r = await runCli(['graph', '-f', join('fixtures', 'example'), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const svg = readFileSync(out, 'utf8');
    assert.match(svg, /^<\?xml version="1\.0"/);
    assert.match(svg, /<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<title>node:node&#45;a&#45;&#45;node:node&#45;b<\/title>/);
    assert.match(svg, />node&#45;c<\/text>/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  });

  test('a missing dot is a clear error', async () => {
    const r = await runCli(['graph', '-f', join('fixtures', 'example'), '--format', 'svg'], { PATH: work });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Graphviz "dot" is not on PATH: install graphviz/);
  });

  test('bad usage exits 2', async () => {
    assert.equal((await runCli(['graph'])).code, 2);
    assert.equal((await runCli(['graph', '-f', 'fixtures/example', '--format', 'png'])).code, 2);
  });
});
