/**
 * Runs a process as a container of a Kubernetes pod would run, on this machine, from what the
 * manifest says: in a node's network namespace (host network), in a private mount namespace whose
 * mounts are the container's volume mounts (bind mounts of folders standing for host paths and
 * emptyDirs; read-only where the manifest says so; the root read-only with
 * `readOnlyRootFilesystem`), as the container's user with its groups and capabilities
 * (`setpriv`), with the environment the kubelet gives it. Nothing is mounted outside the private
 * namespace: it goes away with the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Container, PodSpec } from './manifests.js';

/** What the kubelet fills in for a pod on a node. */
export interface Placement {
  /** `spec.nodeName`. */
  readonly node: string;
  /** `metadata.namespace`. */
  readonly namespace: string;
  /** `metadata.name`. */
  readonly podName: string;
  /** `status.hostIP` (and `status.podIP`, on the host network). */
  readonly hostIP: string;
}

/** The container's environment from the manifest, each `fieldRef` filled in as the kubelet does. */
export function manifestEnv(c: Container, at: Placement): Record<string, string> {
  const fields: Record<string, string> = { 'spec.nodeName': at.node, 'metadata.namespace': at.namespace, 'metadata.name': at.podName, 'status.hostIP': at.hostIP, 'status.podIP': at.hostIP };
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    if (path !== undefined && !(path in fields)) throw new Error(`${c.name}: env ${e.name} refers to ${path}, which this harness does not fill in`);
    env[e.name] = path !== undefined ? fields[path]! : (e.value ?? '');
  }
  return env;
}

/** A mount in a container's file system. */
export interface Mount {
  /** Where the container sees it. */
  readonly target: string;
  /** A folder (or file) of this machine. */
  readonly source: string;
  readonly readOnly: boolean;
}

/** Where a pod's volumes live here: a hostPath path P in `<host>/P`, an emptyDir in `<pod>/<volume name>`. */
export interface VolumeRoots {
  readonly host: string;
  readonly pod: string;
}

/**
 * The container's volume mounts, their sources created as the kubelet creates them: a hostPath
 * (DirectoryOrCreate) mode 0755, an emptyDir mode 0777.
 */
export function volumeMounts(pod: PodSpec, c: Container, roots: VolumeRoots): Mount[] {
  return (c.volumeMounts ?? []).map((m) => {
    const v = (pod.volumes ?? []).find((x) => x.name === m.name);
    if (!v) throw new Error(`${c.name}: volume ${m.name} is not defined`);
    const source = v.hostPath ? join(roots.host, v.hostPath.path) : join(roots.pod, v.name);
    if (!v.hostPath && !v.emptyDir) throw new Error(`${c.name}: volume ${m.name} is neither a hostPath nor an emptyDir`);
    if (!existsSync(source)) {
      mkdirSync(source, { recursive: true });
      chmodSync(source, v.hostPath ? 0o755 : 0o777);
    }
    return { target: m.mountPath, source, readOnly: m.readOnly === true };
  });
}

/** Who a container's process is: user, group, supplementary groups, capabilities, no_new_privs. */
export interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  /** Capability names without `CAP_` (e.g. `NET_ADMIN`): the bounding set, and all a root process has. */
  readonly capabilities: readonly string[];
  readonly noNewPrivs: boolean;
}

/**
 * The identity the manifest gives a container. Capabilities must be dropped with `ALL` (the set
 * left is exactly `add`). As under containerd and CRI-O, no capability is ambient: a process that
 * is not root keeps none across its exec, whatever `add` says.
 */
export function identityOf(pod: PodSpec, c: Container): Identity {
  const s = c.securityContext ?? {};
  if (s.runAsUser === undefined) throw new Error(`${c.name}: no runAsUser (the harness does not read the image's USER)`);
  if (!s.capabilities?.drop?.includes('ALL')) throw new Error(`${c.name}: capabilities not dropped with ALL`);
  return {
    uid: s.runAsUser,
    gid: s.runAsGroup ?? 0,
    groups: pod.securityContext?.supplementalGroups ?? [],
    capabilities: s.capabilities.add ?? [],
    noNewPrivs: s.allowPrivilegeEscalation === false,
  };
}

/** Everything needed to start a process as a container. */
export interface ContainerRun {
  /** The network namespace (a name under /run/netns) of the node: host network. */
  readonly netns: string;
  readonly mounts: readonly Mount[];
  readonly readOnlyRoot: boolean;
  /** An empty folder of this machine where the private namespace keeps the upper layers of its overlays. */
  readonly scaffold: string;
  /** Null: root with every capability (a privileged container, as calico-node). */
  readonly identity: Identity | null;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly argv: readonly string[];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Whether folder `dir` is `path` or holds it. */
const holds = (dir: string, path: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/** The nearest folder of `path` (itself included) that exists here, symlinks resolved. */
function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p)) p = dirname(p);
  return realpathSync(p);
}

/** The path a mount at `target` has in /proc/PID/mountinfo: the symlinks of its existing folders resolved (`/var/run` is `/run`). */
export function mountedPath(target: string): string {
  let p = target;
  const rest: string[] = [];
  while (!existsSync(p)) {
    rest.unshift(basename(p));
    p = dirname(p);
  }
  return join(realpathSync(p), ...rest);
}

/**
 * The shell script that builds the container's mounts inside the private namespace and then
 * execs its process. A mount point that does not exist (`/etc/calico/confd`) is made in an overlay
 * of its nearest existing folder (`/etc`), whose upper layer is in a tmpfs, so nothing is created
 * on this machine's own file systems. Mounts that would hide the sources of others (`/tmp`, where
 * the test's folders are) come last.
 */
export function containerScript(run: ContainerRun): string {
  const lines = ['set -eu', `mount -t tmpfs -o mode=0700 pod-scaffold ${q(run.scaffold)}`];
  const overlays: string[] = [];
  for (const m of run.mounts) {
    if (existsSync(m.target)) continue;
    const base = existingAncestor(m.target);
    if (base === '/') throw new Error(`cannot make mount point ${m.target}: only / holds it`);
    if (overlays.includes(base)) continue;
    const layer = join(run.scaffold, String(overlays.length));
    overlays.push(base);
    lines.push(`mkdir -p ${q(`${layer}/up`)} ${q(`${layer}/work`)}`, `mount -t overlay overlay -o ${q(`lowerdir=${base},upperdir=${layer}/up,workdir=${layer}/work`)} ${q(base)}`);
  }
  const sources = run.mounts.map((m) => realpathSync(m.source));
  const hides = (m: Mount) => sources.some((s) => holds(m.target, s)) || holds(m.target, run.scaffold);
  const depth = (m: Mount) => m.target.split('/').length;
  const ordered = [...run.mounts].sort((a, b) => Number(hides(a)) - Number(hides(b)) || depth(a) - depth(b));
  for (const m of ordered) {
    if (!existsSync(m.target)) lines.push(`mkdir -p ${q(m.target)}`);
    lines.push(`mount --bind ${q(m.source)} ${q(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(m.target)}`);
  }
  if (run.readOnlyRoot) for (const dir of ['/', ...overlays]) lines.push(`mount -o remount,bind,ro ${q(dir)}`);
  lines.push(`cd ${q(run.cwd)}`);
  const env = ['env', '-i', ...Object.entries(run.env).map(([k, v]) => q(`${k}=${v}`))];
  lines.push(`exec ${[...setprivArgs(run.identity), ...env, ...run.argv.map(q)].join(' ')}`);
  return lines.join('\n');
}

/** `setpriv` and its options for an identity, ending with `--` (none for null: stay root with every capability). */
export function setprivArgs(id: Identity | null): string[] {
  if (!id) return [];
  const caps = ['-all', ...id.capabilities.map((c) => `+${c.toLowerCase()}`)].join(',');
  return ['setpriv', `--reuid=${id.uid}`, `--regid=${id.gid}`, id.groups.length ? `--groups=${id.groups.join(',')}` : '--clear-groups', `--bounding-set=${caps}`, '--inh-caps=-all', ...(id.noNewPrivs ? ['--no-new-privs'] : []), '--'];
}

/** A container's process. */
export interface ContainerProcess {
  readonly child: ChildProcess;
  /** Its process id: the container's process itself (every step of the start execs the next). */
  readonly pid: number;
  /** What it printed (stdout and stderr; the last megabyte). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM to its process group, SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // gone already
  }
}

/** Starts a process as a container (see `ContainerRun`); it runs in a process group of its own. */
export function startContainer(run: ContainerRun): ContainerProcess {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const c of live) killGroup(c, 'SIGKILL');
    });
  }
  const argv = [`--net=/run/netns/${run.netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', containerScript(run)];
  const child = spawn('nsenter', argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  live.add(child);
  let out = '';
  const collect = (c: string) => {
    out += c;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      killGroup(child, 'SIGKILL');
      return code;
    },
  };
}
