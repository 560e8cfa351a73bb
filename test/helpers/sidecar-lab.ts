/**
 * The pieces of test/sidecar-e2e.test.ts that stand for a cluster around the pod: the image's
 * environment (read from the Dockerfile), the API server's certificates, the node's link to the
 * control plane with kube-proxy's translation of the `kubernetes` Service address, and what must
 * be installed for all of it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from './bird-lab.js';
import { calicoBird } from './calico-bird.js';
import { containerOf, deployDocs, podSpecOf, type Container, type Obj, type PodSpec } from './manifests.js';
import { netLabAvailable } from './netlab.js';
import { identityOf, manifestEnv, startContainer, volumeMounts, type ContainerProcess, type Mount, type Placement } from './pod.js';
import { repoRoot } from './shared.js';

/**
 * Why `dist/` cannot stand for the image's build: not built, or older than a source file (the
 * test runs `node bin/bird-confd.js`, the image's ENTRYPOINT, which loads `dist/`).
 */
export function distMissing(): string | null {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) {
        const built = join(repoRoot, 'dist', relative('src', path).replace(/\.ts$/, '.js'));
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(repoRoot, path)).mtimeMs) stale.push(path);
      }
    }
  };
  walk('src');
  return stale.length ? `dist/ is not built from the current sources (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}): run npm run build` : null;
}

/**
 * Why the sidecar lab cannot run here, or null: the namespace lab's needs (root, `ip netns`,
 * iptables, Debian's BIRD for the ToRs, Calico's BIRD), util-linux's `setpriv`, `unshare` and
 * `nsenter`, `openssl`, and a current `dist/`.
 */
export function sidecarLabMissing(): string | null {
  const lab = netLabAvailable();
  if (lab) return lab;
  for (const [tool, args, pkg] of [['setpriv', ['--version'], 'util-linux'], ['unshare', ['--version'], 'util-linux'], ['nsenter', ['--version'], 'util-linux'], ['openssl', ['version'], 'openssl']] as const) {
    const r = spawnSync(tool, args);
    if (r.error || r.status !== 0) return `${tool} is not usable (Debian package ${pkg}): ${r.error?.message ?? r.stderr}`;
  }
  return distMissing();
}

const dockerfile = () => readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
/** The instructions of the Dockerfile's last (runtime) stage. */
const runtimeStage = () => dockerfile().split(/^FROM /m).at(-1)!.split('\n');

/** The image's ENTRYPOINT (JSON form). */
export function imageEntrypoint(): string[] {
  const line = runtimeStage().find((l) => l.startsWith('ENTRYPOINT '));
  if (!line) throw new Error('the Dockerfile has no ENTRYPOINT');
  return JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
}

/** The PATH of node:20-slim: Docker's default (the base image sets no other). */
export const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment the image gives a process running as `uid`: PATH, the runtime stage's ENV
 * lines, and HOME from the user's entry (as the container runtime sets it).
 */
export function imageEnv(uid: number): Record<string, string> {
  const env: Record<string, string> = { PATH: IMAGE_PATH };
  for (const l of runtimeStage().filter((x) => x.startsWith('ENV '))) {
    for (const m of l.slice(4).matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
  }
  const user = runtimeStage().find((l) => new RegExp(`useradd .*--uid ${uid}\\b`).test(l));
  env.HOME = uid === 0 ? '/root' : (/--home-dir (\S+)/.exec(user ?? '')?.[1] ?? '/');
  return env;
}

/** The variables the kubelet sets in every container for the `kubernetes` Service at `host:port`. */
export function kubernetesServiceEnv(host: string, port: number): Record<string, string> {
  return {
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: String(port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(port),
    KUBERNETES_PORT: `tcp://${host}:${port}`,
    [`KUBERNETES_PORT_${port}_TCP`]: `tcp://${host}:${port}`,
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: 'tcp',
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: String(port),
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: host,
  };
}

/** A CA and the API server's key and certificate (for `serviceIp`, as a real API server's names it), PEM. */
export interface ApiCertificates {
  readonly ca: string;
  readonly key: string;
  readonly cert: string;
}

/** Makes a CA and a serving certificate for `serviceIp` with openssl in `dir`. */
export function makeApiCertificates(dir: string, serviceIp: string): ApiCertificates {
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=bird-confd-e2e-ca']);
  run('openssl', ['req', ...ec, '-keyout', f('api.key'), '-out', f('api.csr'), '-subj', '/CN=kube-apiserver']);
  writeFileSync(f('api.ext'), `subjectAltName=IP:${serviceIp},DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n`);
  run('openssl', ['x509', '-req', '-in', f('api.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('api.crt'), '-days', '2', '-extfile', f('api.ext')]);
  return { ca: readFileSync(f('ca.crt'), 'utf8'), key: readFileSync(f('api.key'), 'utf8'), cert: readFileSync(f('api.crt'), 'utf8') };
}

/**
 * A point-to-point link between this host (where the in-process API server listens) and a
 * node's namespace, the node's default route over it, and kube-proxy's DNAT of the `kubernetes`
 * Service address to the API server in the node's `nat OUTPUT` (how a host-network pod reaches
 * it). The /30 and the host-side name carry the process id.
 */
export class ControlPlaneLink {
  readonly hostIp: string;
  readonly nodeIp: string;
  private readonly dev = `bce${process.pid}`;

  constructor(private readonly ns: string) {
    const n = process.pid % 16384;
    const [third, fourth] = [n >> 6, (n & 63) * 4];
    this.hostIp = `10.81.${third}.${fourth + 1}`;
    this.nodeIp = `10.81.${third}.${fourth + 2}`;
  }

  /** Creates the link and the node's default route over it. */
  up(): void {
    run('ip', ['link', 'add', this.dev, 'type', 'veth', 'peer', 'name', 'cp0', 'netns', this.ns]);
    run('ip', ['addr', 'add', `${this.hostIp}/30`, 'dev', this.dev]);
    run('ip', ['link', 'set', this.dev, 'up']);
    run('ip', ['-n', this.ns, 'addr', 'add', `${this.nodeIp}/30`, 'dev', 'cp0']);
    run('ip', ['-n', this.ns, 'link', 'set', 'cp0', 'up']);
    run('ip', ['-n', this.ns, 'route', 'add', 'default', 'via', this.hostIp]);
  }

  /** Translates `serviceIp:servicePort` to the API server at `hostIp:apiPort` for the node's own connections. */
  serviceDnat(serviceIp: string, servicePort: number, apiPort: number): void {
    run('ip', ['netns', 'exec', this.ns, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', `${serviceIp}/32`, '-p', 'tcp', '--dport', String(servicePort), '-j', 'DNAT', '--to-destination', `${this.hostIp}:${apiPort}`]);
  }

  /** Removes the link (deleting the node's namespace removes it too). */
  down(): void {
    spawnSync('ip', ['link', 'del', this.dev]);
  }
}

/** Runs a command in network namespace `ns` without blocking the event loop (the API server runs in it). */
export function execIn(ns: string, cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** GETs `http://host:port/path` from inside network namespace `ns`: the status and the body. */
export async function httpGetIn(ns: string, host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(`http://${host}:${port}${path}`)}).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => console.log(JSON.stringify({ status: 0, body: String(e) })))`;
  const r = await execIn(ns, process.execPath, ['-e', script]);
  if (r.code !== 0) throw new Error(`GET ${path} in ${ns}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { status: number; body: string };
}

/**
 * The pods of one node, run from the manifests with their folders under `work`: bird-confd's (the
 * DaemonSet's init container, then its container with the image's ENTRYPOINT) and calico-node's
 * BIRD. `stopAll()` ends every process started.
 */
export class NodePods {
  /** Where the hostPath volumes are: a host path P is `<hostRoot>/P`. */
  readonly hostRoot: string;
  private readonly started: ContainerProcess[] = [];
  private scaffolds = 0;

  constructor(
    private readonly work: string,
    private readonly netns: string,
    private readonly placement: Placement,
    private readonly service: { readonly ip: string; readonly port: number },
  ) {
    this.hostRoot = join(work, 'host');
  }

  /** The pod's service account folder (token, ca.crt, namespace), as the kubelet projects it. */
  serviceAccount(files: { token: string; ca: string }): void {
    const dir = this.podDir('serviceaccount');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token'), files.token);
    writeFileSync(join(dir, 'ca.crt'), files.ca);
    writeFileSync(join(dir, 'namespace'), this.placement.namespace);
  }

  /** A container's mounts: its volumes and, as the kubelet adds it to every container, the service account. */
  mounts(pod: PodSpec, c: Container): Mount[] {
    return [
      ...volumeMounts(pod, c, { host: this.hostRoot, pod: this.podDir() }),
      { target: '/var/run/secrets/kubernetes.io/serviceaccount', source: this.podDir('serviceaccount'), readOnly: true },
    ];
  }

  /** Where the container path `path` of `c` is on this machine (through its volume mounts). */
  onHost(pod: PodSpec, c: Container, path: string): string {
    const m = this.mounts(pod, c).filter((x) => path === x.target || path.startsWith(`${x.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
    if (!m) throw new Error(`${path} is on no volume of ${c.name}`);
    return join(m.source, relative(m.target, path));
  }

  /** Runs the init containers to their end, then starts the bird-confd container (`extra` mounts on top). */
  async startPod(ds: Obj, extra: readonly Mount[] = []): Promise<ContainerProcess> {
    const pod = podSpecOf(ds);
    for (const init of pod.initContainers ?? []) {
      const p = this.run(pod, init, [...(init.command ?? []), ...(init.args ?? [])]);
      const code = await p.exited;
      if (code !== 0) throw new Error(`init container ${init.name} exited ${code}: ${p.output()}`);
    }
    const c = containerOf(pod, 'bird-confd');
    return this.run(pod, c, [...imageEntrypoint(), ...(c.args ?? [])], extra);
  }

  /**
   * Starts calico-node's `bird` or `bird6` (Calico's build) with calico-node's command line, as
   * root with every capability, with the folders calico-node-patch.yaml and calico-node's own
   * manifest (the host's /var/run/calico) give it.
   */
  startCalicoNodeBird(daemon: 'bird' | 'bird6'): ContainerProcess {
    const patch = podSpecOf(deployDocs('calico-node-patch.yaml')[0]!);
    const node = containerOf(patch, 'calico-node');
    const runCalico = { target: '/var/run/calico', source: join(this.hostRoot, 'var/run/calico'), readOnly: false };
    // calico-node's runit service (node/filesystem/etc/service/available/bird*/run in projectcalico/calico).
    const argv = [calicoBird()[daemon], '-R', '-s', `/var/run/calico/${daemon}.ctl`, '-d', '-c', `/etc/calico/confd/config/${daemon}.cfg`];
    const mounts = [...volumeMounts(patch, node, { host: this.hostRoot, pod: join(this.work, 'pods', 'calico-node') }), runCalico];
    return this.track(startContainer({ netns: this.netns, mounts, readOnlyRoot: false, scaffold: this.scaffold(), identity: null, env: { PATH: IMAGE_PATH }, cwd: '/', argv }));
  }

  /** Stops every process started, the last first. */
  async stopAll(): Promise<void> {
    for (const p of this.started.splice(0).reverse()) await p.stop();
  }

  /** Runs container `c` of `pod`: the image's environment, the kubelet's, the manifest's; `extra` mounts on top. */
  private run(pod: PodSpec, c: Container, argv: readonly string[], extra: readonly Mount[] = []): ContainerProcess {
    const identity = identityOf(pod, c);
    const env = { ...imageEnv(identity.uid), HOSTNAME: this.placement.node, ...kubernetesServiceEnv(this.service.ip, this.service.port), ...manifestEnv(c, this.placement) };
    const readOnlyRoot = c.securityContext?.readOnlyRootFilesystem === true;
    return this.track(startContainer({ netns: this.netns, mounts: [...this.mounts(pod, c), ...extra], readOnlyRoot, scaffold: this.scaffold(), identity, env, cwd: repoRoot, argv }));
  }

  private track(p: ContainerProcess): ContainerProcess {
    this.started.push(p);
    return p;
  }

  private podDir(...parts: string[]): string {
    return join(this.work, 'pods', this.placement.podName, ...parts);
  }

  private scaffold(): string {
    const dir = join(this.work, 'scaffold', String(this.scaffolds++));
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}
