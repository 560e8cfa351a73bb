/**
 * Real BGP for the fields Calico v3.32 added (the default output profile): cluster nodes run
 * Calico's BIRD on configs that `bird-confd render` wrote from the manifests below, top-of-rack
 * routers run Debian's stock BIRD on hand-written configs (see netns.test.ts for the lab and the
 * proofs of the fields both profiles render). Each proof fails when bird-confd drops its field:
 * a session that must come up stays down, one that must stay down comes up, or a route, next hop,
 * timer or attribute is not what BIRD shows.
 *
 * Two labs: "sessions" (whether a session comes up: ttlSecurity, localASNumber, the mesh password,
 * sourceAddress) watches every session that must stay down in one shared window, and "routes"
 * (BGPFilter import and export rules and operations, keepaliveTime, maxRestartTime) reads routes
 * and timers on one node facing one ToR.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from './helpers/bird-lab.js';
import { CLUSTER_AS, NODES, TOR_AS, blockDoc, calico, clusterDocs, doc, ip, nodeDoc, nodeIp, peerBlock, problemsOf, proto, renderNodes, routeSources, segment, startNodes, startTor, watchStaysDown } from './helpers/lab-cluster.js';
import { NetLab, netLabAvailable, sweepStaleNamespaces } from './helpers/netlab.js';

const unavailable = netLabAvailable();
if (!unavailable) sweepStaleNamespaces();

/** The AS node1 presents to tor2 instead of the cluster's (localASNumber). */
const LOCAL_AS = 65100;
/** node3 and tor2 also share a second subnet on the segment, which only node3's session to tor2 uses. */
const node3Second = '10.78.1.13';
const tor2Second = '10.78.1.2';
const config = (dir: string) => readFileSync(join(dir, 'bird.cfg'), 'utf8');

describe('Calico v3.32 fields on real BGP', { skip: unavailable ?? false, concurrency: false }, () => {
  describe('sessions: ttlSecurity, localASNumber, nodeMeshPassword, sourceAddress', () => {
    const lab = unavailable ? null : new NetLab('v332s');
    let dirs = new Map<string, string>();
    let stayedUp: Promise<string[]> = Promise.resolve([]);
    /**
     * Mesh on with a password from a Secret. Node-specific peers to tor1 with ttlSecurity on node1
     * and node2 (not node3), to tor2 with localASNumber on node1 (not node2), and node3's peer to
     * tor2 on the second subnet with sourceAddress None.
     */
    const manifests = (meshPassword: string) =>
      calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}, nodeMeshPassword: {secretKeyRef: {name: mesh-password, key: password}}}`) +
      doc('v1', 'Secret', 'mesh-password', `stringData: {password: ${meshPassword}}`, 'kube-system') +
      clusterDocs(NODES) +
      calico('BGPPeer', 'node1-tor1', `{node: node1, peerIP: ${ip(1)}, asNumber: ${TOR_AS}, ttlSecurity: 1}`) +
      calico('BGPPeer', 'node2-tor1', `{node: node2, peerIP: ${ip(1)}, asNumber: ${TOR_AS}, ttlSecurity: 1}`) +
      calico('BGPPeer', 'node3-tor1', `{node: node3, peerIP: ${ip(1)}, asNumber: ${TOR_AS}}`) +
      calico('BGPPeer', 'node1-tor2', `{node: node1, peerIP: ${ip(2)}, asNumber: ${TOR_AS}, localASNumber: ${LOCAL_AS}}`) +
      calico('BGPPeer', 'node2-tor2', `{node: node2, peerIP: ${ip(2)}, asNumber: ${TOR_AS}}`) +
      calico('BGPPeer', 'node3-tor2', `{node: node3, peerIP: ${tor2Second}, asNumber: ${TOR_AS}, sourceAddress: None}`);
    const toTor1 = proto('Node', ip(1));
    const toTor2 = proto('Node', ip(2));
    const meshTo = (node: string) => proto('Mesh', nodeIp(node));

    before(async () => {
      if (!lab) return;
      segment(lab, ['tor1', 'tor2', ...NODES]);
      lab.exec('tor2', 'ip', ['addr', 'add', `${tor2Second}/24`, 'dev', 'eth0']);
      lab.exec('node3', 'ip', ['addr', 'add', `${node3Second}/24`, 'dev', 'eth0']);
      // node1 and node2 render with the cluster's mesh password; node3 with another one, as a
      // node that saw an older Secret would.
      const [same, other] = await Promise.all([
        renderNodes(lab, 'sessions', manifests('fake-mesh-password-1'), ['node1', 'node2']),
        renderNodes(lab, 'sessions-other', manifests('fake-mesh-password-2'), ['node3']),
      ]);
      dirs = new Map([...same, ...other]);
      // tor1 runs GTSM (`ttl security on`) with node1 and node3, not with node2.
      const gtsm = ['ttl security on;'];
      await startTor(lab, 'tor1', ip(1), [
        { name: 'n1', address: nodeIp('node1'), lines: gtsm },
        { name: 'n2', address: nodeIp('node2') },
        { name: 'n3', address: nodeIp('node3'), lines: gtsm },
      ]);
      // tor2 expects AS 65100 from node1 and node2, and waits (passive) for node3 to connect from
      // its second-subnet address: a connection from node3's node address is not a neighbor.
      await startTor(lab, 'tor2', ip(2), [
        { name: 'n1', address: nodeIp('node1'), as: LOCAL_AS },
        { name: 'n2', address: nodeIp('node2'), as: LOCAL_AS },
        { name: 'n3', address: node3Second, lines: ['passive on;'] },
      ]);
      await startNodes(lab, dirs);
      // One window for every session that must stay down, while the others come up.
      stayedUp = watchStaysDown(lab, [
        { router: 'node2', protocol: toTor1 },
        { router: 'tor1', protocol: 'n3' },
        { router: 'node2', protocol: toTor2 },
        { router: 'node3', protocol: meshTo('node1') },
        { router: 'node3', protocol: meshTo('node2') },
      ]);
      await Promise.all([lab.established('node1', [toTor1, toTor2, meshTo('node2')]), lab.established('node3', [proto('Node', tor2Second)])]);
    });
    after(async () => {
      await stayedUp;
      await lab?.close();
    });

    test('ttlSecurity: the session to a ToR comes up when both sides run GTSM, and stays down when only one side does', async () => {
      // Without the field node1 sends with TTL 64 and tor1 drops it, and node2 comes up with tor1.
      const node1 = peerBlock(config(dirs.get('node1')!), toTor1);
      assert.match(node1, /^ {2}ttl security on;\n {2}multihop 1;$/m);
      assert.match(peerBlock(config(dirs.get('node3')!), toTor1), /^ {2}ttl security off;$/m);
      await lab!.established('tor1', ['n1']);
      // node2 on, tor1's n2 off: node2 drops the ToR's packets (TTL 1, not 255). node3 off, tor1's
      // n3 on: the ToR drops node3's (TTL 64). The side running GTSM is the one watched: BIRD sets
      // the minimum TTL only once it has accepted a connection, so the peer's OPEN may slip
      // through and the other side may believe in a session for a while; the GTSM side never
      // hears the peer's KEEPALIVE and never counts the session up.
      const found = await stayedUp;
      assert.deepEqual(problemsOf(found, 'node2', [toTor1]), [], 'node2 (GTSM) with tor1 (no GTSM)');
      assert.deepEqual(problemsOf(found, 'tor1', ['n3']), [], 'tor1 (GTSM) with node3 (no GTSM)');
    });

    test('localASNumber: the ToR sees the per-peer AS, and a node presenting the cluster AS instead stays down', async () => {
      assert.match(peerBlock(config(dirs.get('node1')!), toTor2), new RegExp(`^ {2}local as ${LOCAL_AS};$`, 'm'));
      // Established: the node's OPEN carried 65100, which BIRD checks against the neighbor AS it
      // was configured with (shown by `show protocols all`). Without the field it says 64512.
      await lab!.established('tor2', ['n1']);
      assert.match(lab!.birdc('tor2', 'show protocols all n1'), new RegExp(`Neighbor AS:\\s+${LOCAL_AS}$`, 'm'));
      // The ToR's routes from node1 carry the per-peer AS as their path.
      const shown = await eventually('tor2 learns node1\'s block from n1', async () => {
        const r = lab!.birdc('tor2', 'show route all protocol n1');
        return r.includes('10.244.1.0/26') ? r : undefined;
      });
      assert.match(shown, new RegExp(`BGP\\.as_path: ${LOCAL_AS}$`, 'm'));
      const found = await stayedUp;
      assert.deepEqual(problemsOf(found, 'node2', [toTor2]), [], 'node2 presents AS 64512 to a ToR expecting 65100');
      // Why: the ToR refuses node2's OPEN. Its last error alternates with node2's retries (a
      // refused OPEN, then the connection node2 resets), so the reason is waited for, not sampled.
      await eventually('tor2 refusing n2 for its AS', async () => (/Bad peer AS/.test(lab!.birdc('tor2', 'show protocols all n2')) ? true : undefined));
    });

    test('nodeMeshPassword: mesh sessions come up between nodes with the same password, not with a node rendered with another', async () => {
      // Without the field no mesh session is signed, and node3's come up like the others.
      assert.match(peerBlock(config(dirs.get('node1')!), meshTo('node2')), /^ {2}password "fake-mesh-password-1";$/m);
      assert.match(peerBlock(config(dirs.get('node3')!), meshTo('node1')), /^ {2}password "fake-mesh-password-2";$/m);
      await lab!.established('node2', [meshTo('node1')]);
      const found = await stayedUp;
      assert.deepEqual(problemsOf(found, 'node3', [meshTo('node1'), meshTo('node2')]), [], 'node3\'s mesh with another password');
    });

    test('sourceAddress None: no source address line, and BIRD connects from the address the kernel picks', async () => {
      const name = proto('Node', tor2Second);
      assert.doesNotMatch(peerBlock(config(dirs.get('node3')!), name), /source address/);
      // The mesh still binds to the node address: the line is left out only where asked.
      assert.match(peerBlock(config(dirs.get('node3')!), meshTo('node1')), /source address 10\.78\.0\.13;/);
      await lab!.established('tor2', ['n3']);
      // tor2 never connects (passive) and knows node3 only by its second address: node3 made the
      // connection from there. With `source address 10.78.0.13` it could not come up.
      assert.match(lab!.birdc('node3', `show protocols all ${name}`), new RegExp(`Source address:\\s+${node3Second.replace(/\./g, '\\.')}$`, 'm'));
    });
  });

  describe('routes: BGPFilter rules and operations, keepaliveTime, maxRestartTime', () => {
    const lab = unavailable ? null : new NetLab('v332r');
    const toTor = proto('Node', ip(1));
    const blocks = ['10.244.1.0/26', '10.244.1.64/26', '10.244.1.128/26'] as const;
    const [marked, kept, plain] = blocks;
    /**
     * node1 alone (mesh off) with three blocks, peering with tor1, which announces two prefixes.
     * The import filter rejects one of them; the export filter rejects one block and accepts
     * another with a community and a prepended AS; the third leaves through Calico's own filter.
     */
    const manifests =
      calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}, nodeToNodeMeshEnabled: false}`) +
      calico('IPPool', 'lab-pool', '{cidr: 10.244.0.0/16, ipipMode: Never, vxlanMode: Never}') +
      nodeDoc('node1') +
      blocks.map((b, i) => blockDoc(`node1-block${i}`, 'node1', b)).join('') +
      calico('BGPFilter', 'lab-import', '{importV4: [{action: Reject, matchOperator: Equal, cidr: 203.0.113.0/24}]}') +
      calico(
        'BGPFilter',
        'lab-export',
        `{exportV4: [{action: Reject, matchOperator: Equal, cidr: ${kept}}, {action: Accept, matchOperator: Equal, cidr: ${marked}, operations: [{addCommunity: {value: "${CLUSTER_AS}:777"}}, {prependASPath: {prefix: [65099]}}]}]}`,
      ) +
      calico('BGPPeer', 'node1-tor1', `{node: node1, peerIP: ${ip(1)}, asNumber: ${TOR_AS}, filters: [lab-import, lab-export], keepaliveTime: 7s, maxRestartTime: 77s}`);

    before(async () => {
      if (!lab) return;
      segment(lab, ['tor1', 'node1']);
      const dirs = await renderNodes(lab, 'routes', manifests, ['node1']);
      await startTor(lab, 'tor1', ip(1), [{ name: 'n1', address: nodeIp('node1') }], ['198.51.100.0/24', '203.0.113.0/24']);
      await startNodes(lab, dirs);
      await lab.established('node1', [toTor]);
    });
    after(async () => lab?.close());

    test('import filter: a prefix the BGPFilter rejects stays out of the node\'s kernel while the accepted one arrives', async () => {
      // Without the filter call in the peer's import block, both prefixes reach the kernel.
      await lab!.routeWhere('node1', '198.51.100.0/24', (r) => r.includes(`via ${ip(1)} `), 'via tor1');
      // The ToR offers both; BIRD on the node filtered one out before its table and kernel.
      assert.match(lab!.birdc('tor1', 'show route export n1'), /^203\.0\.113\.0\/24 /m);
      assert.equal(lab!.route('node1', '203.0.113.0/24'), '');
      assert.deepEqual(routeSources(lab!, 'node1', '203.0.113.0/24'), []);
      const updates = /Import updates:\s+(\d+)\s+(\d+)\s+(\d+)/.exec(lab!.birdc('node1', `show protocols all ${toTor}`));
      assert.ok(updates && Number(updates[3]) >= 1, `node1 counts a filtered import update: ${updates?.[0]}`);
    });

    test('export filter: one IPAM block of the node is kept from the ToR while the others arrive', async () => {
      // Without the filter call in the peer's export block, Calico's export accepts all three.
      for (const b of [marked, plain]) await lab!.routeWhere('tor1', b, (r) => r.includes(`via ${nodeIp('node1')} `), 'via node1');
      // node1 has the block (its blackhole route), and would announce it without the filter.
      assert.match(lab!.birdc('node1', `show route ${kept}`), new RegExp(`^${kept.replace(/[./]/g, '\\$&')} +blackhole`, 'm'));
      assert.deepEqual(routeSources(lab!, 'tor1', kept), []);
      assert.equal(lab!.route('tor1', kept), '');
    });

    test('export operations: the ToR sees the added community and the prepended AS on that route only', async () => {
      // Without the operations the matched block arrives like the others: no community, path 64512.
      const shown = lab!.birdc('tor1', `show route ${marked} all`);
      assert.match(shown, new RegExp(`BGP\\.community: \\(${CLUSTER_AS},777\\)$`, 'm'));
      // BIRD 1.6 gives a route the node originates its eBGP path (the node's AS) before the export
      // filter runs, so the prepended AS lands in front of it.
      assert.match(shown, new RegExp(`BGP\\.as_path: 65099 ${CLUSTER_AS}$`, 'm'));
      const other = lab!.birdc('tor1', `show route ${plain} all`);
      assert.match(other, new RegExp(`BGP\\.as_path: ${CLUSTER_AS}$`, 'm'));
      assert.doesNotMatch(other, /BGP\.community/);
    });

    test('keepaliveTime and maxRestartTime: the node keeps alive every 7 s, and the ToR holds its routes 77 s when it dies', async () => {
      assert.match(lab!.birdc('node1', `show protocols all ${toTor}`), /Keepalive timer:\s+\d+\/7$/m);
      // Killed (no Cease message), node1 leaves the ToR in graceful restart for the time it
      // announced: 77 s, not BIRD's default of 120 s. The ToR keeps its routes meanwhile.
      lab!.router('node1').child.kill('SIGKILL');
      const shown = await eventually('tor1 in graceful restart for n1', async () => {
        const s = lab!.birdc('tor1', 'show protocols all n1');
        return /Neighbor graceful restart active/.test(s) ? s : undefined;
      });
      const left = Number(/Restart timer:\s+(\d+)\/-/.exec(shown)?.[1]);
      assert.ok(left > 40 && left <= 77, `restart timer ${left} s of 77 s: ${shown}`);
      assert.deepEqual(routeSources(lab!, 'tor1', plain), ['n1']);
    });
  });
});
