/**
 * Real BGP in network namespaces: cluster nodes run Calico's BIRD (as calico-node does) on the
 * configs that `bird-confd render` (or `watch --oneshot`) wrote from the manifests below, with the
 * default output profile (Calico v3.32), and top-of-rack routers run Debian's stock BIRD with
 * small hand-written configs, so each session has a second implementation on its other side.
 * Every proof reads what BIRD and the kernels actually do: session states, kernel routes, next
 * hops, packet counters. The proofs of fields that only v3.32 renders are in netns-v332.test.ts.
 *
 * Addresses, AS numbers and blocks: test/helpers/lab-cluster.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { eventually, sleep } from './helpers/bird-lab.js';
import { cliPath } from './helpers/calico-bird.js';
import { CLUSTER_AS, NODES, TOR_AS, block, block6, calico, clusterDocs, doc, ip, nodeDoc, nodeIp, nodeIp6, peerBlock, proto, renderNodes, routeSources, segment, startNodes, startTor, watchStaysDown } from './helpers/lab-cluster.js';
import { NetLab, netLabAvailable, sweepStaleNamespaces } from './helpers/netlab.js';

const unavailable = netLabAvailable();
if (!unavailable) sweepStaleNamespaces();

// ---- the proofs ------------------------------------------------------------------------------

describe('the lab itself', { skip: unavailable ?? false }, () => {
  for (const [signal, how] of [['SIGTERM', 'interrupted'], ['SIGKILL', 'killed (the next run sweeps up)']] as const) {
    test(`a lab whose test process is ${how} leaves no namespace and no BIRD behind`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/netlab-child.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      const started = await eventually('the child lab is up', async () => (out.includes('\n') ? (JSON.parse(out) as { namespaces: string[]; pid: number }) : child.exitCode !== null ? Promise.reject(new Error(err)) : undefined));
      const listed = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (const ns of started.namespaces) assert.ok(listed().includes(ns), `${ns} exists while the lab runs`);
      assert.ok(alive(started.pid), 'BIRD runs while the lab runs');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
      if (signal === 'SIGKILL') sweepStaleNamespaces();
      await eventually('namespaces and BIRD gone', async () => (started.namespaces.every((ns) => !listed().includes(ns)) && !alive(started.pid) ? true : undefined), 10_000);
    });
  }
});

describe('real BGP in network namespaces', { skip: unavailable ?? false, concurrency: false }, () => {
  test('1. mesh, dual stack: every mesh session Established in bird and bird6, and each kernel routes every other block via its node', async (t) => {
    const lab = new NetLab('mesh');
    t.after(() => lab.close());
    for (const n of NODES) lab.joinSegment(n, `${nodeIp(n)}/24`, `${nodeIp6(n)}/64`);
    const dirs = await renderNodes(lab, 'mesh', calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}}`) + clusterDocs(NODES, () => ({ v6: true })), NODES);
    await startNodes(lab, dirs);
    for (const [n, dir] of dirs) await lab.startBird(n, join(dir, 'bird6.cfg'), dir, { make: 'calico', family: 6 });
    for (const n of NODES) {
      const others = NODES.filter((m) => m !== n);
      await lab.established(n, others.map((m) => proto('Mesh', nodeIp(m))));
      await lab.established(`${n}6`, others.map((m) => proto('Mesh', nodeIp6(m))));
    }
    for (const n of NODES) {
      for (const m of NODES.filter((m) => m !== n)) {
        await lab.routeWhere(n, block(m), (r) => r.includes(`via ${nodeIp(m)} `), `via ${m}`);
        await lab.routeWhere(n, block6(m), (r) => r.includes(`via ${nodeIp6(m)} `), `via ${m}`);
      }
    }
  });

  test('2. passwords: a peer with the same password comes up, one with a different password stays down', async (t) => {
    const lab = new NetLab('pass');
    t.after(() => lab.close());
    segment(lab, ['tor1', 'node1', 'node2']);
    const manifests =
      calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}, nodeToNodeMeshEnabled: false}`) +
      clusterDocs(['node1', 'node2']) +
      calico('BGPPeer', 'tor1', `{peerIP: ${ip(1)}, asNumber: ${TOR_AS}, password: {secretKeyRef: {name: bgp-passwords, key: tor1}}}`) +
      doc('v1', 'Secret', 'bgp-passwords', 'stringData: {tor1: fake-lab-password-1}', 'kube-system');
    const dirs = await renderNodes(lab, 'pass', manifests, ['node1', 'node2']);
    assert.match(readFileSync(join(dirs.get('node1')!, 'bird.cfg'), 'utf8'), /password "fake-lab-password-1";/);
    // The ToR expects the same password from node1 and another one from node2.
    await startTor(lab, 'tor1', ip(1), [
      { name: 'n1', address: nodeIp('node1'), password: 'fake-lab-password-1' },
      { name: 'n2', address: nodeIp('node2'), password: 'fake-lab-password-2' },
    ]);
    await startNodes(lab, dirs);
    await lab.established('node1', [proto('Global', ip(1))]);
    await lab.established('tor1', ['n1']);
    // Two implementations face each other: Calico's BIRD on the node, Debian's on the ToR.
    assert.match(lab.birdc('node1', 'show status'), /^BIRD v[\d.]+\+birdv1\.6\.8$/m);
    assert.match(lab.birdc('tor1', 'show status'), /^BIRD 1\.6\.8$/m);
    // Several connect retries (2 s on the ToR, 5 s on the node) without the session coming up.
    assert.deepEqual(await watchStaysDown(lab, [{ router: 'node2', protocol: proto('Global', ip(1)) }]), [], 'a session with a different password came up');
  });

  describe('3. route reflector (mesh off, node1 the reflector)', () => {
    const lab = unavailable ? null : new NetLab('rr');
    const manifests = (nextHop: string) =>
      calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}, nodeToNodeMeshEnabled: false}`) +
      clusterDocs(NODES, (n) => (n === 'node1' ? { labels: 'route-reflector: "true"', rr: '224.0.0.1' } : {})) +
      calico('BGPPeer', 'peer-with-reflectors', `{nodeSelector: all(), peerSelector: route-reflector == 'true'${nextHop}}`);
    before(async () => {
      if (!lab) return;
      segment(lab, NODES);
      await startNodes(lab, await renderNodes(lab, 'rr', manifests(''), NODES));
      await lab.established('node1', [proto('Node', nodeIp('node2')), proto('Node', nodeIp('node3'))]);
    });
    after(async () => lab?.close());

    test('clients peer only with the reflector and still learn every block, with the originator as next hop', async () => {
      for (const client of ['node2', 'node3']) {
        await lab!.established(client, [proto('Node', nodeIp('node1'))]);
        assert.deepEqual((await lab!.bgpProtocols(client)).map((p) => p.name), [proto('Node', nodeIp('node1'))], `${client} peers only with the reflector`);
      }
      // Reflected routes keep their originator's next hop.
      await lab!.routeWhere('node2', block('node3'), (r) => r.includes(`via ${nodeIp('node3')} `), 'via node3');
      await lab!.routeWhere('node3', block('node2'), (r) => r.includes(`via ${nodeIp('node2')} `), 'via node2');
      await lab!.routeWhere('node1', block('node2'), (r) => r.includes(`via ${nodeIp('node2')} `), 'via node2');
    });

    test('3b. nextHopMode: Self on the reflector peering: reflected routes reach the clients with the reflector as next hop', async () => {
      // The BGPPeer's nextHopMode reaches node1's reverse peerings to its clients (next hop self).
      const self = await renderNodes(lab!, 'rr-self', manifests(', nextHopMode: Self'), ['node1']);
      const text = readFileSync(join(self.get('node1')!, 'bird.cfg'), 'utf8');
      for (const client of ['node2', 'node3']) assert.match(peerBlock(text, proto('Node', nodeIp(client))), /rr client;[^]*next hop self;/, `node1's peering with ${client}`);
      assert.match(lab!.birdc('node1', `configure "${join(self.get('node1')!, 'bird.cfg')}"`), /Reconfigured|Reconfiguration in progress/);
      // Before, node3 routed node2's block via node2 (the test above); now via the reflector. The
      // new option restarts node1's sessions to its clients; when a first reconnect fails,
      // BIRD tries again only after its connect retry time (120 s), so the wait covers that.
      const restart = 150_000;
      await lab!.routeWhere('node3', block('node2'), (r) => r.includes(`via ${nodeIp('node1')} `), 'via node1 (the reflector)', restart);
      await lab!.routeWhere('node2', block('node3'), (r) => r.includes(`via ${nodeIp('node1')} `), 'via node1 (the reflector)', restart);
    });
  });

  describe('external peers: keepOriginalNextHop, ECMP, service advertisement', () => {
    const lab = unavailable ? null : new NetLab('ext');
    let dirs = new Map<string, string>();
    const manifests = (keep: boolean) =>
      calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}, serviceClusterIPs: [{cidr: 10.96.0.0/16}]}`) +
      clusterDocs(NODES) +
      calico('BGPPeer', 'tor1', `{peerIP: ${ip(1)}, asNumber: ${TOR_AS}}`) +
      calico('BGPPeer', 'tor2', `{peerIP: ${ip(2)}, asNumber: ${TOR_AS}, keepOriginalNextHop: ${keep}}`) +
      doc('v1', 'Service', 'web', 'spec: {type: NodePort, clusterIP: 10.96.0.50, externalTrafficPolicy: Local, ports: [{port: 80, protocol: TCP}]}', 'default') +
      // As a cluster keeps them: the Endpoints (what Calico v3.17 reads) and the EndpointSlice the
      // controller mirrors them to (what v3.32, the default profile, reads).
      doc('v1', 'Endpoints', 'web', 'subsets: [{addresses: [{ip: 10.244.1.5, nodeName: node1}, {ip: 10.244.2.5, nodeName: node2}], ports: [{port: 80, protocol: TCP}]}]', 'default') +
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-lab, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\n' +
      'endpoints: [{addresses: [10.244.1.5], nodeName: node1}, {addresses: [10.244.2.5], nodeName: node2}]\nports: [{port: 80, protocol: TCP}]\n---\n';
    before(async () => {
      if (!lab) return;
      segment(lab, ['tor1', 'tor2', ...NODES]);
      dirs = await renderNodes(lab, 'keep', manifests(true), NODES, ['--service-routes', 'own']);
      // tor1 peers with every node; tor2 only with node1, so it hears other blocks through node1.
      // Both announce 198.51.100.0/24 with equal attributes.
      await startTor(lab, 'tor1', ip(1), NODES.map((n) => ({ name: `n${n.slice(-1)}`, address: nodeIp(n) })), ['198.51.100.0/24']);
      await startTor(lab, 'tor2', ip(2), [{ name: 'n1', address: nodeIp('node1') }], ['198.51.100.0/24']);
      await startNodes(lab, dirs);
      await lab.established('node1', [proto('Global', ip(1)), proto('Global', ip(2)), proto('Mesh', nodeIp('node2')), proto('Mesh', nodeIp('node3'))]);
      await lab.established('tor1', ['n1', 'n2', 'n3']);
    });
    after(async () => lab?.close());

    test('6. service advertisement: the cluster range from every node, a Local service /32 only from nodes with an endpoint', async () => {
      await eventually('tor1 hears 10.96.0.0/16 from every node', async () => (isDeepStrictEqual(routeSources(lab!, 'tor1', '10.96.0.0/16'), ['n1', 'n2', 'n3']) ? true : undefined));
      await eventually('tor1 hears 10.96.0.50/32 from node1 and node2', async () => {
        const from = routeSources(lab!, 'tor1', '10.96.0.50/32');
        return from.includes('n1') && from.includes('n2') ? from : undefined;
      });
      // node3 has announced (its cluster range arrived), but not the /32 of a service it has no endpoint for.
      assert.deepEqual(routeSources(lab!, 'tor1', '10.96.0.50/32'), ['n1', 'n2']);
    });

    test('6b. Calico\'s default (--service-routes all) passes the /32 on from node3 too, with node3 as next hop', async () => {
      const calicoDirs = await renderNodes(lab!, 'calico', manifests(true), ['node3']);
      assert.match(lab!.birdc('node3', `configure "${join(calicoDirs.get('node3')!, 'bird.cfg')}"`), /Reconfigured|Reconfiguration in progress/);
      try {
        await eventually('tor1 hears 10.96.0.50/32 from node3', async () => (routeSources(lab!, 'tor1', '10.96.0.50/32').includes('n3') ? true : undefined));
        assert.match(lab!.birdc('tor1', 'show route 10.96.0.50/32 protocol n3'), new RegExp(`via ${nodeIp('node3').replace(/\./g, '\\.')} `));
      } finally {
        assert.match(lab!.birdc('node3', `configure "${join(dirs.get('node3')!, 'bird.cfg')}"`), /Reconfigured|Reconfiguration in progress/);
      }
      await eventually('node3 withdrew the /32 again', async () => (routeSources(lab!, 'tor1', '10.96.0.50/32').includes('n3') ? undefined : true));
    });

    test('5. ECMP: a prefix from two ToRs with equal preference is one kernel route with two next hops', async () => {
      const route = await lab!.routeWhere('node1', '198.51.100.0/24', (r) => r.includes(`nexthop via ${ip(1)} `) && r.includes(`nexthop via ${ip(2)} `), 'with two next hops');
      assert.equal(route.split('\n').filter((l) => l.startsWith('198.51.100.0/24')).length, 1, `one multipath route: ${route}`);
    });

    test('4. keepOriginalNextHop on a global peer: the ToR gets node2\'s block via node1 with next hop node2, and node1 without it', async () => {
      await lab!.established('tor2', ['n1']);
      await lab!.routeWhere('tor2', block('node2'), (r) => r.includes(`via ${nodeIp('node2')} `), 'via node2 (original next hop kept)');
      // Same cluster without keepOriginalNextHop: re-render, reload node1's BIRD, the next hop becomes node1.
      const plain = await renderNodes(lab!, 'nokeep', manifests(false), ['node1'], ['--service-routes', 'own']);
      assert.doesNotMatch(readFileSync(join(plain.get('node1')!, 'bird.cfg'), 'utf8'), /next hop keep/);
      assert.match(readFileSync(join(dirs.get('node1')!, 'bird.cfg'), 'utf8'), /next hop keep/);
      assert.match(lab!.birdc('node1', `configure "${join(plain.get('node1')!, 'bird.cfg')}"`), /Reconfigured|Reconfiguration in progress/);
      await lab!.routeWhere('tor2', block('node2'), (r) => r.includes(`via ${nodeIp('node1')} `), 'via node1 (next hop self)');
    });
  });

  describe('7. service loop prevention', () => {
    const lab = unavailable ? null : new NetLab('loop');
    const unused = '10.96.7.7';
    const input = lab?.folder('loop-input') ?? '';
    const manifests = (mode: string) =>
      calico('BGPConfiguration', 'default', `{asNumber: ${CLUSTER_AS}, serviceClusterIPs: [{cidr: 10.96.0.0/16}]}`) +
      calico('FelixConfiguration', 'default', `{serviceLoopPrevention: ${mode}}`) +
      calico('IPPool', 'lab-pool', '{cidr: 10.244.0.0/16, ipipMode: Never, vxlanMode: Never}') +
      NODES.map((n) => nodeDoc(n)).join('') +
      calico('BGPPeer', 'tor1', `{peerIP: ${ip(1)}, asNumber: ${TOR_AS}}`);

    /**
     * Runs the daemon once inside each node's namespace, as the sidecar would: it checks the files
     * with `bird -p` (Calico's, first on PATH as on calico-node), writes them and keeps the policy rule.
     */
    const oneshot = (mode: string) => {
      writeFileSync(join(input, 'cluster.yaml'), manifests(mode));
      for (const n of NODES) {
        const r = lab!.try(n, process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'watch', '--oneshot', '--datastore', 'file', '-f', input, '--node', n, '--out', lab!.folder(`loop-${n}`), '--no-reload'], { PATH: cliPath() });
        assert.equal(r.status, 0, `watch --oneshot in ${n}: ${r.stderr}`);
      }
    };
    /** Packets to the unused service IP that arrived at any node (iptables counters, zeroed before each send). */
    const arrivals = () =>
      NODES.reduce((sum, n) => {
        const listed = lab!.exec(n, 'iptables', ['-t', 'mangle', '-nvxL', 'PREROUTING']);
        const line = listed.split('\n').find((l) => l.includes(unused));
        return sum + Number(line?.trim().split(/\s+/)[0] ?? 0);
      }, 0);
    /** Sends `count` UDP packets (TTL 64) from the host behind the ToR to the unused service IP. */
    const sendFromHost = async (count: number) => {
      for (const n of NODES) lab!.exec(n, 'iptables', ['-t', 'mangle', '-Z', 'PREROUTING']);
      const script = `const s=require('dgram').createSocket('udp4');let i=0;const go=()=>s.send('x',9,'${unused}',()=>{if(++i<${count})setTimeout(go,50);else s.close();});s.bind(()=>{s.setTTL(64);go();});`;
      lab!.exec('host', process.execPath, ['-e', script]);
      await sleep(1500);
      return arrivals();
    };
    /** Opens a TCP connection from node1 itself to a service IP that the nat OUTPUT rule translates to node2's server. */
    const connectFromNode = () =>
      lab!.try('node1', process.execPath, [
        '-e',
        `const c=require('net').connect({host:'10.96.0.10',port:80,timeout:3000});let d='';c.on('data',x=>d+=x);c.on('end',()=>{process.stdout.write(d);process.exit(d.startsWith('hello')?0:1)});c.on('timeout',()=>{console.error('timeout');process.exit(1)});c.on('error',e=>{console.error(e.code);process.exit(1)});`,
      ]);

    before(async () => {
      if (!lab) return;
      segment(lab, ['tor1', ...NODES]);
      lab.link('tor1', '10.79.0.1/24', 'host', '10.79.0.2/24');
      lab.exec('host', 'ip', ['route', 'add', 'default', 'via', '10.79.0.1']);
      for (const n of NODES) {
        lab.exec(n, 'ip', ['route', 'add', 'default', 'via', ip(1)]);
        lab.exec(n, 'iptables', ['-t', 'mangle', '-A', 'PREROUTING', '-d', `${unused}/32`, '-j', 'ACCEPT']);
      }
      // kube-proxy stand-in on node1: the node's own connections to 10.96.0.10:80 go to node2:8080.
      lab.exec('node1', 'iptables', ['-t', 'nat', '-A', 'OUTPUT', '-d', '10.96.0.10/32', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${nodeIp('node2')}:8080`]);
      lab.spawn('node2', process.execPath, ['-e', `require('net').createServer((s)=>{s.on('error',()=>{});s.end('hello\\n');}).listen(8080,'${nodeIp('node2')}')`]);
      oneshot('Drop');
      await startTor(lab, 'tor1', ip(1), NODES.map((n) => ({ name: `n${n.slice(-1)}`, address: nodeIp(n) })));
      for (const n of NODES) await lab.startBird(n, join(lab.folder(`loop-${n}`), 'bird.cfg'), lab.folder(`loop-${n}`), { make: 'calico' });
      await lab.established('tor1', ['n1', 'n2', 'n3']);
      await lab.routeWhere('tor1', '10.96.0.0/16', (r) => r.length > 0, 'learned from the nodes');
      await eventually('node2 serves on 8080', async () => (lab.try('node1', process.execPath, ['-e', `require('net').connect(8080,'${nodeIp('node2')}').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`]).status === 0 ? true : undefined));
    });
    after(async () => lab?.close());

    test('Drop: the daemon keeps the policy rule, and a packet to an unused service IP dies at the first node', async () => {
      for (const n of NODES) {
        assert.match(lab!.exec(n, 'ip', ['-4', 'rule', 'show']), /not from all iif lo lookup 250/, `${n} has the policy rule`);
        await lab!.routeWhere(n, 'table 250', (r) => r.includes('blackhole 10.96.0.0/16'), 'blackhole in table 250');
      }
      const seen = await sendFromHost(3);
      assert.equal(seen, 3, `each packet should reach a node once and be dropped there; nodes saw ${seen}`);
    });

    test('Drop: a connection the node itself opens to a DNATed service IP still works (it never meets the blackhole)', () => {
      const ok = connectFromNode();
      assert.equal(ok.status, 0, `connect from node1 failed: ${ok.stderr}`);
      // The design matters: the same table consulted for the node's own traffic (Calico's reverted
      // main-table blackhole, in effect) breaks exactly this connection.
      lab!.exec('node1', 'ip', ['rule', 'add', 'lookup', '250', 'priority', '999']);
      try {
        const broken = connectFromNode();
        assert.notEqual(broken.status, 0, 'a blackhole seen by local traffic should break the connection');
      } finally {
        lab!.exec('node1', 'ip', ['rule', 'del', 'lookup', '250', 'priority', '999']);
      }
      assert.equal(connectFromNode().status, 0);
    });

    test('Disabled: the rule is removed and the same packets loop between node and ToR until their TTL runs out', async () => {
      oneshot('Disabled');
      for (const n of NODES) {
        assert.doesNotMatch(lab!.exec(n, 'ip', ['-4', 'rule', 'show']), /lookup 250/, `${n} dropped the policy rule`);
        assert.match(lab!.birdc(n, 'configure'), /Reconfigured|Reconfiguration in progress/);
      }
      const seen = await sendFromHost(3);
      assert.ok(seen >= 30, `without loop prevention each packet should bounce many times; nodes saw ${seen}`);
    });
  });
});
