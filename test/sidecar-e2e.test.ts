/**
 * The image and the manifests, as shipped: bird-confd run from deploy/daemonset.yaml's container
 * (its args, env, user, groups, capabilities, mounts and probes, read from the manifest) with the
 * image's ENTRYPOINT (`node bin/bird-confd.js`, the built CLI), beside Calico's BIRD started as
 * calico-node starts it, on a node whose network (host network) has two ToRs; the Kubernetes
 * datastore is the in-process API server, over HTTPS with a service-account token, reached at the
 * `kubernetes` Service address as a host-network pod reaches it.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { watchSettings } from '../src/cli/watch-settings.js';
import { eventually, protocolsOf } from './helpers/bird-lab.js';
import { CLUSTER_AS, ip, nodeIp, proto, segment, startTor, TOR_AS } from './helpers/lab-cluster.js';
import { FakeKubeApi } from './helpers/fake-kube-api.js';
import { containerOf, daemonSet, podSpecOf } from './helpers/manifests.js';
import { NetLab, sweepStaleNamespaces } from './helpers/netlab.js';
import { identityOf, manifestEnv, mountedPath, setprivArgs, type ContainerProcess, type Placement } from './helpers/pod.js';
import { skipUnlessCi } from './helpers/shared.js';
import { ControlPlaneLink, execIn, httpGetIn, IMAGE_PATH, makeApiCertificates, NodePods, sidecarLabMissing } from './helpers/sidecar-lab.js';

const skip = skipUnlessCi(sidecarLabMissing());
const NODE = 'node1';
/** The `kubernetes` Service (the first address of a usual service range), as the kubelet announces it. */
const SERVICE = { ip: '10.96.0.1', port: 443 };
const base = daemonSet();
const namespace = (base.metadata as { namespace: string }).namespace;
const placement: Placement = { node: NODE, namespace, podName: 'bird-confd-e2e', hostIP: nodeIp(NODE) };

describe('the image and manifests, as shipped, beside calico-node\'s BIRD', { skip }, () => {
  const lab = skip ? null : new NetLab('e2e');
  const link = lab ? new ControlPlaneLink(lab.ns(NODE)) : null;
  const api = new FakeKubeApi();
  const token = randomBytes(24).toString('hex');
  const pod = podSpecOf(base);
  const container = containerOf(pod, 'bird-confd');
  /** What the sidecar's arguments and environment make of its output folder and BIRD's socket. */
  const settings = watchSettings([...(container.args ?? []).slice(1)], manifestEnv(container, placement))!;
  // Made in `before`: a skipped suite leaves nothing behind.
  let work = '';
  let pods: NodePods;
  let configDir = '';
  let socket = '';
  let sidecar: ContainerProcess | null = null;

  const bgpNames = (text: string) => [...text.matchAll(/^protocol bgp (\S+)/gm)].map((m) => m[1]!).sort();
  const running = async () => (await protocolsOf(socket)).map((p) => p.name);
  const stateOf = async (name: string) => (await protocolsOf(socket)).find((p) => p.name === name)?.bgp?.state;
  const statusOf = (pid: number) => Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').map((l) => l.split(':\t')).filter((x) => x.length === 2).map(([k, v]) => [k!, v!.trim()]));
  const logOf = () => sidecar?.output() ?? '';
  /** Waits for `check`; a timeout shows the end of the sidecar's log. */
  const waitFor = (what: string, check: () => Promise<boolean>, ms = 30_000) =>
    eventually(what, async () => ((await check()) ? true : undefined), ms).catch((err: Error) => {
      throw new Error(`${err.message}\n${logOf().slice(-3000)}`);
    });

  before(async () => {
    if (!lab || !link) return;
    work = mkdtempSync(join(tmpdir(), 'bird-confd-e2e-'));
    process.once('exit', () => rmSync(work, { recursive: true, force: true }));
    pods = new NodePods(work, lab.ns(NODE), placement, SERVICE);
    configDir = pods.onHost(pod, container, settings.out);
    socket = pods.onHost(pod, container, settings.sockets.ipv4);
    sweepStaleNamespaces();
    segment(lab, ['tor1', 'tor2', NODE]);
    link.up();
    const pki = makeApiCertificates(lab.folder('pki'), SERVICE.ip);
    await api.start({ tls: pki, token, host: link.hostIp });
    link.serviceDnat(SERVICE.ip, SERVICE.port, api.port);
    pods.serviceAccount({ token, ca: pki.ca });
    // The cluster: one node with a block, a pool without encapsulation (no IP-in-IP here), a ToR peer.
    api.set('bgpconfigurations', { metadata: { name: 'default' }, spec: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: true } });
    api.set('nodes', { metadata: { name: NODE, annotations: { 'projectcalico.org/IPv4Address': `${nodeIp(NODE)}/24` } } });
    api.set('ippools', { metadata: { name: 'lab-pool' }, spec: { cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never' } });
    api.set('blockaffinities', { metadata: { name: `${NODE}-block` }, spec: { node: NODE, cidr: '10.244.1.0/26', state: 'confirmed', deleted: 'false' } });
    api.set('bgppeers', { metadata: { name: 'tor1' }, spec: { peerIP: ip(1), asNumber: TOR_AS } });
    await startTor(lab, 'tor1', ip(1), [{ name: 'n1', address: nodeIp(NODE) }]);
    await startTor(lab, 'tor2', ip(2), [{ name: 'n1', address: nodeIp(NODE) }]);
    // Every `ip` of the image's PATH records its calls (into the pod's /tmp) instead of running.
    const recorder = join(work, 'ip-recorder');
    writeFileSync(recorder, '#!/bin/sh\necho "$*" >> /tmp/ip-calls\necho "ip: recorded by the test, not run" >&2\nexit 1\n', { mode: 0o755 });
    const ips = [...new Set(IMAGE_PATH.split(':').map((d) => join(d, 'ip')).filter((p) => existsSync(p)).map((p) => mountedPath(p)))];
    sidecar = await pods.startPod(base, ips.map((target) => ({ target, source: recorder, readOnly: true })));
    // calico-node's BIRD starts once its config is there (runit restarts it until then).
    await waitFor('the sidecar writes bird.cfg and bird6.cfg', async () => existsSync(join(configDir, 'bird.cfg')) && existsSync(join(configDir, 'bird6.cfg')));
    pods.startCalicoNodeBird('bird');
    pods.startCalicoNodeBird('bird6');
  });

  after(async () => {
    await pods?.stopAll();
    await api.close();
    link?.down();
    await lab?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the first config is applied (symlinks into a generation, owned by the pod\'s user) and BIRD runs its sessions', async () => {
    const tor = proto('Global', ip(1));
    await waitFor(`${tor} Established in calico-node's BIRD`, async () => (await stateOf(tor)) === 'Established', 40_000);
    await lab!.established('tor1', ['n1']);
    const cfg = readFileSync(join(configDir, 'bird.cfg'), 'utf8');
    assert.deepEqual((await protocolsOf(socket)).filter((p) => p.proto === 'BGP').map((p) => p.name).sort(), bgpNames(cfg), 'BIRD runs the sessions of the file bird-confd wrote');
    // What the node exports reaches the ToR: its block, via the node.
    await lab!.routeWhere('tor1', '10.244.1.0/26', (r) => r.includes(`via ${nodeIp(NODE)}`), `via ${NODE}`);
    assert.ok(lstatSync(join(configDir, 'bird.cfg')).isSymbolicLink(), 'bird.cfg is a link into the current generation');
    assert.equal(statSync(join(configDir, '..data')).uid, identityOf(pod, container).uid, 'the generation is written by the pod\'s user');
  });

  test('a BGPPeer added through the API reaches BIRD: a new session, Established', async () => {
    const reloads = () => (logOf().match(/"daemon":"bird"[^\n]*"msg":"reloaded"/g) ?? []).length;
    const before = reloads();
    api.set('bgppeers', { metadata: { name: 'tor2' }, spec: { peerIP: ip(2), asNumber: TOR_AS } });
    const tor2 = proto('Global', ip(2));
    await waitFor(`${tor2} Established`, async () => (await stateOf(tor2)) === 'Established', 40_000);
    await lab!.established('tor2', ['n1']);
    assert.ok((await running()).includes(proto('Global', ip(1))));
    // The safe reload logs once BIRD confirmed it (after the sessions that were up came back).
    await waitFor('the reload confirmed', async () => reloads() > before);
  });

  test('/livez and /readyz answer 200 on the probes\' host and port, inside the node\'s network', async () => {
    for (const probe of [container.livenessProbe!, container.readinessProbe!]) {
      const { host, port, path } = probe.httpGet;
      const r = await eventually(`${path} 200`, async () => {
        const got = await httpGetIn(lab!.ns(NODE), host ?? placement.hostIP, port, path);
        return got.status === 200 ? got : undefined;
      }, 15_000);
      assert.match(r.body, /^ok: /);
    }
  });

  test('the pod runs as the manifest says: user, groups, no capabilities, read-only root; no `ip`, no write outside its mounts', () => {
    assert.equal(pod.hostNetwork, true, 'the harness runs the sidecar in the node\'s network namespace because the pod shares it');
    const id = identityOf(pod, container);
    const s = statusOf(sidecar!.pid);
    assert.match(s.Name!, /^node/, 'the image\'s entrypoint runs as the container\'s process');
    assert.equal(s.Uid, Array(4).fill(id.uid).join('\t'));
    assert.equal(s.Gid, Array(4).fill(id.gid).join('\t'));
    assert.equal(s.Groups, id.groups.join(' '));
    assert.equal(s.CapEff, '0000000000000000');
    assert.equal(s.NoNewPrivs, '1');
    // BIRD's control socket: root-owned, 0660; reached through the root group only.
    const sock = statSync(socket);
    assert.ok(sock.isSocket());
    assert.deepEqual([sock.uid, sock.gid, sock.mode & 0o777], [0, 0, 0o660]);
    const mountinfo = readFileSync(`/proc/${sidecar!.pid}/mountinfo`, 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 5);
    const optionsAt = (path: string) => mountinfo.filter((f) => f[4] === path).at(-1)?.[5]?.split(',') ?? [];
    assert.ok(optionsAt('/').includes('ro'), 'readOnlyRootFilesystem');
    for (const m of container.volumeMounts ?? []) assert.ok(optionsAt(mountedPath(m.mountPath)).includes(m.readOnly ? 'ro' : 'rw'), `${m.mountPath} ${m.readOnly ? 'read-only' : 'writable'}`);
    // The recorder writes into the pod's /tmp (an emptyDir).
    const ipCalls = join(pods.onHost(pod, container, '/tmp'), 'ip-calls');
    assert.ok(!existsSync(ipCalls), `ip was run: ${existsSync(ipCalls) ? readFileSync(ipCalls, 'utf8') : ''}`);
    assert.doesNotMatch(logOf(), /after-render step failed|EROFS|read-only file system|EACCES|permission denied/i);
    assert.equal(api.unauthorized, 0, 'every API request carried the service account token');
    assert.ok(api.requestedPaths.has('/apis/crd.projectcalico.org/v1/bgppeers'));
  });

  test('SIGTERM ends the sidecar with 0 within the pod\'s termination grace period', async () => {
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    const t = performance.now();
    const code = await sidecar!.stop();
    assert.equal(code, 0, logOf().slice(-2000));
    assert.ok(performance.now() - t < grace * 1000, `took ${Math.round(performance.now() - t)} ms`);
  });

  test('loop prevention needs root: a non-root user keeps no capability added by the manifest (no ambient capabilities)', async () => {
    const withNetAdmin = { ...identityOf(pod, container), capabilities: ['NET_ADMIN'] };
    const r = await execIn(lab!.ns(NODE), 'setpriv', [...setprivArgs(withNetAdmin).slice(1), 'ip', 'rule', 'add', 'not', 'iif', 'lo', 'lookup', '250', 'priority', '1000']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });

  test('with loop-prevention-patch.yaml: root with NET_ADMIN only keeps the policy rule, and removes it when Disabled', async () => {
    const patched = daemonSet('loop-prevention-patch.yaml');
    sidecar = await pods.startPod(patched);
    const rule = async () => (await execIn(lab!.ns(NODE), 'ip', ['-4', 'rule', 'show'])).stdout;
    api.set('bgpconfigurations', { metadata: { name: 'default' }, spec: { asNumber: CLUSTER_AS, nodeToNodeMeshEnabled: true, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] } });
    api.set('felixconfigurations', { metadata: { name: 'default' }, spec: { serviceLoopPrevention: 'Drop' } });
    await waitFor('the policy rule', async () => /not from all iif lo lookup 250/.test(await rule()));
    await waitFor('BIRD runs the loop table', async () => (await running()).includes('calico_loop_kernel'));
    const s = statusOf(sidecar.pid);
    assert.equal(s.Uid, '0\t0\t0\t0');
    assert.equal(s.CapEff, (1n << 12n).toString(16).padStart(16, '0'), 'CAP_NET_ADMIN and nothing else');
    assert.equal(s.NoNewPrivs, '1');
    const { host, port } = container.readinessProbe!.httpGet;
    await waitFor('ready with the rule in place', async () => (await httpGetIn(lab!.ns(NODE), host!, port, '/readyz')).status === 200);
    // The node's own traffic (here: to the API server's service address) never consults the loop
    // table: the next change still arrives.
    api.set('felixconfigurations', { metadata: { name: 'default' }, spec: { serviceLoopPrevention: 'Disabled' } });
    await waitFor('the policy rule removed', async () => !/lookup 250/.test(await rule()));
    await waitFor('BIRD without the loop table', async () => !(await running()).includes('calico_loop_kernel'));
    assert.doesNotMatch(logOf(), /after-render step failed|EROFS|EACCES/);
    assert.equal(await sidecar.stop(), 0);
  });
});
