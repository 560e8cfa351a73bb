import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseManifestText, snapshotOf } from '../src/model/load.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import { birdParseDir } from './helpers/bird.js';
import { skipWithoutCalicoBird } from './helpers/calico-bird.js';
import { writeFiles } from './helpers/run-cli.js';

/** A random but valid cluster, as manifest documents. */
const cluster = fc
  .record({
    nodes: fc.uniqueArray(
      fc.record({
        v4: fc.option(fc.integer({ min: 1, max: 250 }), { nil: undefined }),
        v6: fc.option(fc.integer({ min: 1, max: 250 }), { nil: undefined }),
        as: fc.option(fc.constantFrom(64512, 65001, 65002), { nil: undefined }),
        rack: fc.constantFrom('a', 'b', 'c'),
        rr: fc.boolean(),
        port: fc.option(fc.constantFrom(179, 1790, 1791), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 6, selector: (n) => `${n.v4}|${n.v6}` },
    ),
    mesh: fc.boolean(),
    globalPort: fc.option(fc.constantFrom(1790, 1179), { nil: undefined }),
    peers: fc.array(
      fc.record({
        local: fc.constantFrom('global', 'node0', 'rack-a', 'rr'),
        remote: fc.oneof(fc.constantFrom('sel-rr', 'sel-all', 'sel-rack-b'), fc.record({ ip: fc.integer({ min: 1, max: 254 }), v6: fc.boolean(), port: fc.option(fc.constantFrom(179, 1179, 50), { nil: undefined }), as: fc.constantFrom(64512, 65100) })),
        keep: fc.boolean(),
        password: fc.boolean(),
      }),
      { maxLength: 5 },
    ),
    blocks: fc.array(fc.record({ node: fc.nat(5), block: fc.nat(200), state: fc.constantFrom('', 'confirmed', 'pending', 'pendingDeletion') }), { maxLength: 6 }),
    services: fc.boolean(),
  })
  .map((c) => {
    // Unique addresses, since nodes with a shared address are a configuration error.
    const nodes = c.nodes.filter((n) => n.v4 !== undefined || n.v6 !== undefined);
    const docs: string[] = [];
    docs.push(`apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: ${c.mesh}${c.globalPort ? `, listenPort: ${c.globalPort}` : ''}${c.services ? ', serviceClusterIPs: [{cidr: 10.96.0.0/16}, {cidr: "fd00:96::/112"}]' : ''}}`);
    nodes.forEach((n, i) => {
      const bgp = [n.v4 !== undefined ? `ipv4Address: 10.0.${n.v4}.${i + 1}/16` : '', n.v6 !== undefined ? `ipv6Address: "fd00::${n.v6.toString(16)}:${i + 1}/64"` : '', n.as ? `asNumber: ${n.as}` : '', n.rr ? 'routeReflectorClusterID: 224.0.0.1' : ''].filter(Boolean).join(', ');
      docs.push(`apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: node${i}, labels: {rack: ${n.rack}${n.rr ? ', rr: "yes"' : ''}}}\nspec: {bgp: {${bgp}}}`);
      if (n.port) docs.push(`apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: node.node${i}}\nspec: {listenPort: ${n.port}}`);
    });
    c.peers.forEach((p, i) => {
      const local = { global: '', node0: 'node: node0, ', 'rack-a': `nodeSelector: "rack == 'a'", `, rr: 'nodeSelector: has(rr), ' }[p.local];
      let remote: string;
      if (typeof p.remote === 'string') remote = { 'sel-rr': 'peerSelector: has(rr)', 'sel-all': 'peerSelector: all()', 'sel-rack-b': `peerSelector: "rack == 'b'"` }[p.remote as 'sel-rr' | 'sel-all' | 'sel-rack-b'];
      else {
        const ip = p.remote.v6 ? `2001:db8::${p.remote.ip.toString(16)}` : `192.0.2.${p.remote.ip}`;
        const text = p.remote.port ? (p.remote.v6 ? `"[${ip}]:${p.remote.port}"` : `"${ip}:${p.remote.port}"`) : `"${ip}"`;
        remote = `peerIP: ${text}, asNumber: ${p.remote.as}, keepOriginalNextHop: ${p.keep}`;
      }
      const pw = p.password ? ', password: {secretKeyRef: {name: pw, key: k}}' : '';
      docs.push(`apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: peer-${i}}\nspec: {${local}${remote}${pw}}`);
    });
    docs.push('apiVersion: v1\nkind: Secret\nmetadata: {name: pw, namespace: kube-system}\nstringData: {k: fake-property-pw}');
    docs.push('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p4}\nspec: {cidr: 172.16.0.0/12, ipipMode: CrossSubnet}');
    docs.push('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p6}\nspec: {cidr: "fd00:1::/48"}');
    c.blocks.forEach((b, i) => docs.push(`apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: b${i}}\nspec: {node: node${b.node % Math.max(1, nodes.length)}, cidr: 172.16.${b.block}.0/26, state: "${b.state}"}`));
    return { docs, nodeNames: nodes.map((_, i) => `node${i}`) };
  })
  .filter((c) => c.nodeNames.length > 0);

function renderAll(docs: readonly string[], node: string) {
  const loaded = parseManifestText(docs.join('\n---\n'), 'gen.yaml');
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return renderNodeWithTemplates(snapshotOf(loaded.resources), node);
}

const work = mkdtempSync(join(tmpdir(), 'bird-confd-prop-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('properties of random valid clusters', () => {
  test('render succeeds, is order-independent, names are unique, no self-peering, one passive side per mesh pair', () => {
    fc.assert(
      fc.property(cluster, fc.infiniteStream(fc.nat()), (c, seeds) => {
        const shuffled = [...c.docs].map((d) => [seeds.next().value, d] as const).sort((a, b) => a[0] - b[0]).map(([, d]) => d);
        const passive = new Map<string, boolean>();
        for (const node of c.nodeNames) {
          const r = renderAll(c.docs, node);
          assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
          assert.ok(r.files && r.view);
          const again = renderAll(shuffled, node);
          assert.deepEqual(again.files, r.files, 'output depends on document order');
          for (const fam of [r.view.ipv4, r.view.ipv6]) {
            const text: string = r.files.get(fam.files.main)!;
            const names: string[] = [...text.matchAll(/^protocol bgp (\S+)/gm)].map((m) => m[1]!);
            assert.equal(new Set(names).size, names.length, `duplicate protocol names in ${node}/${fam.files.main}`);
            if (fam.address) assert.doesNotMatch(text, new RegExp(`neighbor ${fam.address.replace(/[.]/g, '\\.')} `), `${node} peers with itself`);
            for (const p of fam.sessions.filter((s) => s.kind === 'mesh')) passive.set(`${fam.family}|${fam.address}|${p.peerIp}`, p.options.includes('passive on;'));
          }
        }
        for (const [key, isPassive] of passive) {
          const [fam, me, them] = key.split('|');
          const other = passive.get(`${fam}|${them}|${me}`);
          if (other !== undefined) assert.notEqual(isPassive, other, `mesh pair ${me} / ${them}: passive on both or neither`);
        }
      }),
      { numRuns: 150, seed: 20261123 },
    );
  });

  test("every node's rendered config passes Calico's bird -p / bird6 -p", { skip: skipWithoutCalicoBird() }, async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(cluster, async (c) => {
        const dirs = c.nodeNames.map((node) => {
          const dir = join(work, `${++checked}-${node}`);
          writeFiles(dir, renderAll(c.docs, node).files!);
          return dir;
        });
        const parsed = await Promise.all(dirs.map((dir) => birdParseDir(dir)));
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
        parsed.forEach((p, i) => assert.ok(p.ok, `${c.nodeNames[i]}:\n${p.output}\n${c.docs.join('\n---\n')}`));
      }),
      { numRuns: 100, seed: 20261123 },
    );
    assert.ok(checked >= 200, `only ${checked} configs`);
  });
});

