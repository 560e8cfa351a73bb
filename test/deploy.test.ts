import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
// The Kubernetes OpenAPI models of the client library (field names and types, as kubectl's
// client-side validation knows them); imported by path, so that the client's network stack is
// not loaded.
import * as models from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { daemonSet } from './helpers/manifests.js';
import { runCli } from './helpers/run-cli.js';

type Obj = Record<string, unknown>;
interface Doc {
  readonly file: string;
  readonly obj: Obj;
}

const deployDir = 'deploy';
const docs: Doc[] = readdirSync(deployDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(deployDir, f), 'utf8')).map((d) => {
      assert.deepEqual(d.errors.map(String), [], `${f}: YAML errors`);
      return { file: f, obj: d.toJS() as Obj };
    }),
  );
/** The patches: applied on top of other manifests, not on their own. */
const patchFiles = ['calico-node-patch.yaml', 'loop-prevention-patch.yaml'];
const main = docs.filter((d) => !patchFiles.includes(d.file));
const of = (kind: string) => main.filter((d) => d.obj.kind === kind).map((d) => d.obj);
const meta = (o: Obj) => o.metadata as { name: string; namespace?: string; labels?: Record<string, string> };

const kinds: Record<string, { apiVersion: string; model: string; namespaced: boolean }> = {
  ServiceAccount: { apiVersion: 'v1', model: 'V1ServiceAccount', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1ClusterRole', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1ClusterRoleBinding', namespaced: false },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1Role', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1RoleBinding', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', model: 'V1DaemonSet', namespaced: true },
};

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}
const modelTable = models as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

/** Problems of `value` against the OpenAPI model `type`: unknown fields and wrong primitive types. */
function schemaProblems(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => schemaProblems(v, array[1]!, `${path}[${i}]`)) : [`${path}: not a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).flatMap(([k, v]) => schemaProblems(v, map[1]!, `${path}.${k}`)) : [`${path}: not a map`];
  switch (type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${path}: not a string`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: not a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: not a boolean`];
    case 'IntOrString':
      return typeof value === 'string' || Number.isInteger(value) ? [] : [`${path}: not an int or string`];
    case 'any':
      return [];
  }
  const attrs = modelTable[type]?.getAttributeTypeMap?.();
  if (!attrs) return [`${path}: unknown model ${type}`];
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
  const byName = new Map(attrs.map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) => (byName.has(k) ? schemaProblems(v, byName.get(k)!, `${path}.${k}`) : [`${path}.${k}: unknown field`]));
}

interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
}
interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string } }[];
  securityContext?: { supplementalGroups?: number[] };
}
const podSpec = (ds: Obj) => ((ds.spec as Obj).template as Obj).spec as PodSpec;

describe('deploy/ manifests', () => {
  test('every document is a known kind with its apiVersion, name, and namespace when namespaced', () => {
    assert.ok(docs.length >= 7, `only ${docs.length} documents`);
    for (const { file, obj } of docs) {
      const k = kinds[obj.kind as string];
      assert.ok(k, `${file}: unexpected kind ${String(obj.kind)}`);
      assert.equal(obj.apiVersion, k.apiVersion, `${file}: ${String(obj.kind)} apiVersion`);
      assert.ok(meta(obj)?.name, `${file}: ${String(obj.kind)} has no metadata.name`);
      if (k.namespaced) assert.ok(meta(obj).namespace, `${file}: ${String(obj.kind)}/${meta(obj).name} has no namespace`);
      else assert.equal(meta(obj).namespace, undefined, `${file}: cluster-scoped ${String(obj.kind)} with a namespace`);
    }
  });

  test('every field is known to the Kubernetes API with the right type', () => {
    for (const { file, obj } of docs) assert.deepEqual(schemaProblems(obj, kinds[obj.kind as string]!.model, `${file}:${String(obj.kind)}`), []);
  });

  test('the schema check catches unknown fields and wrong types (it can fail)', () => {
    const ds = structuredClone(of('DaemonSet')[0]!);
    (podSpec(ds).containers[0] as unknown as Obj).imagePullPolicyy = 'Always';
    (podSpec(ds) as unknown as Obj).hostNetwork = 'yes';
    assert.deepEqual(schemaProblems(ds, 'V1DaemonSet', 'ds'), ['ds.spec.template.spec.hostNetwork: not a boolean', 'ds.spec.template.spec.containers[0].imagePullPolicyy: unknown field']);
  });

  test('DaemonSet: selector matches the pod labels; containers have images; every mount has a volume', () => {
    const [ds] = of('DaemonSet');
    assert.ok(ds);
    const spec = ds.spec as { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
    assert.ok(Object.keys(spec.selector.matchLabels).length > 0);
    for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[k], v, `selector ${k}`);
    const pod = podSpec(ds);
    const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      assert.ok(c.name && c.image, `container ${c.name} needs a name and an image`);
      for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${c.name}: volume ${m.name} is not defined`);
    }
    const used = new Set([...pod.containers, ...(pod.initContainers ?? [])].flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
    assert.deepEqual([...volumes].filter((v) => !used.has(v)), [], 'volumes defined but never mounted');
  });

  test('the sidecar shares BIRD\'s config folder and control socket folder, and writes where BIRD reads', () => {
    const pod = podSpec(of('DaemonSet')[0]!);
    const c = pod.containers.find((x) => x.name === 'bird-confd')!;
    const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    const out = c.args![c.args!.indexOf('--out') + 1]!;
    assert.equal(out, '/etc/calico/confd/config');
    // The mount holds the output folder and calico-node confd's (empty) conf.d/ and templates/.
    assert.ok(mounts.has('/etc/calico/confd') && !mounts.get('/etc/calico/confd')!.readOnly, 'config parent folder mounted read-write');
    assert.ok(mounts.has('/var/run/calico'), 'control socket folder mounted');
    const hostPath = (name: string) => pod.volumes!.find((v) => v.name === name)?.hostPath?.path;
    assert.equal(hostPath(mounts.get('/var/run/calico')!.name), '/var/run/calico');
    // calico-node's patch mounts the same host folder where its BIRD reads the config.
    const patch = docs.find((d) => d.file === 'calico-node-patch.yaml')!.obj;
    assert.equal(meta(patch).name, 'calico-node');
    const patchPod = podSpec(patch);
    const node = patchPod.containers.find((x) => x.name === 'calico-node')!;
    const confd = node.volumeMounts!.find((m) => m.mountPath === '/etc/calico/confd')!;
    assert.ok(confd, 'calico-node mounts /etc/calico/confd');
    assert.equal(patchPod.volumes!.find((v) => v.name === confd.name)?.hostPath?.path, hostPath(mounts.get('/etc/calico/confd')!.name));
  });

  test('least privilege: non-root, no privilege escalation, read-only root, capabilities dropped', () => {
    const pod = podSpec(of('DaemonSet')[0]!);
    for (const c of pod.containers) {
      const s = c.securityContext ?? {};
      assert.equal(s.runAsNonRoot, true, c.name);
      assert.ok((s.runAsUser ?? 0) > 0, c.name);
      assert.equal(s.allowPrivilegeEscalation, false, c.name);
      assert.equal(s.readOnlyRootFilesystem, true, c.name);
      assert.deepEqual(s.capabilities?.drop, ['ALL'], c.name);
      assert.equal(s.capabilities?.add, undefined, c.name);
    }
    for (const c of pod.initContainers ?? []) {
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
      assert.ok((c.securityContext?.capabilities?.add ?? []).every((cap) => ['CHOWN', 'FOWNER'].includes(cap)), `${c.name}: only CHOWN and FOWNER`);
    }
    assert.deepEqual(pod.securityContext?.supplementalGroups, [0], 'the root group, for BIRD\'s 0660 root:root control socket');
  });

  test('RBAC: read-only verbs, exactly the watched resources, Secrets only through a namespaced Role', () => {
    const [ds] = of('DaemonSet');
    const ns = meta(ds!).namespace!;
    const sa = podSpec(ds!).serviceAccountName;
    assert.ok(of('ServiceAccount').some((s) => meta(s).name === sa && meta(s).namespace === ns), `ServiceAccount ${sa} in ${ns}`);
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    const rules = (o: Obj) => o.rules as Rule[];
    for (const r of [...of('ClusterRole'), ...of('Role')].flatMap(rules)) {
      assert.ok(r.verbs.every((v) => ['get', 'list', 'watch'].includes(v)), `write verb in ${JSON.stringify(r)}`);
      assert.ok(![...r.verbs, ...r.resources, ...r.apiGroups].includes('*'), `wildcard in ${JSON.stringify(r)}`);
    }
    const granted = (o: Obj) => rules(o).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g || 'core'}/${res}`))).sort();
    const [clusterRole] = of('ClusterRole');
    assert.deepEqual(granted(clusterRole!), [
      'core/endpoints', 'core/nodes', 'core/services',
      'crd.projectcalico.org/bgpconfigurations', 'crd.projectcalico.org/bgpfilters', 'crd.projectcalico.org/bgppeers', 'crd.projectcalico.org/blockaffinities', 'crd.projectcalico.org/felixconfigurations', 'crd.projectcalico.org/ippools',
      'discovery.k8s.io/endpointslices',
    ]);
    const roles = of('Role');
    assert.equal(roles.length, 1);
    assert.deepEqual(granted(roles[0]!), ['core/secrets']);
    assert.equal(meta(roles[0]!).namespace, ns, 'Secrets only in the deployment namespace');
    // NAMESPACE (where passwords are read) is the same namespace.
    const env = podSpec(ds!).containers.find((c) => c.name === 'bird-confd')!.env!;
    assert.equal(env.find((e) => e.name === 'NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
    // Each binding points at an existing role of the right kind and at our ServiceAccount.
    for (const [bindingKind, roleKind] of [['ClusterRoleBinding', 'ClusterRole'], ['RoleBinding', 'Role']] as const) {
      const bindings = of(bindingKind);
      assert.equal(bindings.length, 1, bindingKind);
      const b = bindings[0] as { roleRef: { kind: string; name: string; apiGroup: string }; subjects: { kind: string; name: string; namespace: string }[] } & Obj;
      assert.equal(b.roleRef.kind, roleKind);
      assert.equal(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
      assert.ok(of(roleKind).some((r) => meta(r).name === b.roleRef.name), `${bindingKind} refers to a missing ${roleKind}`);
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: ns }]);
      if (bindingKind === 'RoleBinding') assert.equal(meta(b).namespace, ns);
    }
  });

  test('the container args are accepted by the watch command', async () => {
    const c = podSpec(of('DaemonSet')[0]!).containers.find((x) => x.name === 'bird-confd')!;
    const args = c.args!;
    assert.equal(args[0], 'watch');
    const probe = await runCli(['watch', '--help']);
    if (probe.code === 0) {
      // The watch command exists: it must parse these flags (then --help exits 0 before starting).
      const r = await runCli([...args, '--help']);
      assert.equal(r.code, 0, `watch rejects ${args.join(' ')}: ${r.stderr}`);
      return;
    }
    // Until watch is registered: the flags documented for it (issue 3).
    const documented: Record<string, 'value' | 'flag'> = { '--datastore': 'value', '--node': 'value', '--out': 'value', '--oneshot': 'flag', '--debounce': 'value', '--check-cmd': 'value', '--reload-cmd': 'value', '--no-reload': 'flag' };
    for (let i = 1; i < args.length; i++) {
      const kind = documented[args[i]!];
      assert.ok(kind, `watch has no flag ${args[i]}`);
      if (kind === 'value') i++;
    }
    assert.ok(['file', 'etcdv3', 'kubernetes'].includes(args[args.indexOf('--datastore') + 1]!));
  });

  test('the probes hit the health endpoints the daemon serves on its --metrics-address', () => {
    const c = podSpec(of('DaemonSet')[0]!).containers.find((x) => x.name === 'bird-confd')!;
    const probes = c as unknown as { args: string[]; livenessProbe: { httpGet: { path: string; port: number; host: string } }; readinessProbe: { httpGet: { path: string; port: number; host: string } } };
    assert.equal(probes.livenessProbe.httpGet.path, '/livez');
    assert.equal(probes.readinessProbe.httpGet.path, '/readyz');
    const address = probes.args[probes.args.indexOf('--metrics-address') + 1];
    assert.equal(address, `${probes.livenessProbe.httpGet.host}:${probes.livenessProbe.httpGet.port}`);
    assert.equal(address, `${probes.readinessProbe.httpGet.host}:${probes.readinessProbe.httpGet.port}`);
  });
});

/**
 * What already listens on a node's host network beside calico-node, where the sidecar's health and
 * metrics port must not land (hostNetwork: a clash makes one of the two fail to bind).
 */
const hostNetworkPorts: Record<number, string> = {
  // BGP: BIRD in calico-node.
  179: 'BIRD (BGP)',
  // projectcalico/calico felix/config/config_params.go: HealthPort (also node/pkg/health/health.go,
  // what calico-node's readiness probe asks).
  9099: 'Felix health',
  // projectcalico/calico felix/config/config_params.go: PrometheusMetricsPort.
  9091: 'Felix Prometheus metrics',
  // projectcalico/calico felix/config/config_params.go: FailsafeInboundHostPorts (tcp:5473, Typha).
  5473: 'Typha (host network)',
  // projectcalico/calico typha/pkg/config/config_params.go: PrometheusMetricsPort.
  9093: 'Typha Prometheus metrics',
  // projectcalico/calico typha/pkg/config/config_params.go: HealthPort.
  9098: 'Typha health',
  // projectcalico/calico api/pkg/apis/projectcalico/v3/kubecontrollersconfig.go: PrometheusMetricsPort.
  9094: 'calico-kube-controllers metrics',
  // tigera/operator pkg/render/node.go: nodeBGPReporterPort (Calico Enterprise's BGP metrics in calico-node).
  9900: 'Calico Enterprise BGP metrics',
  // tigera/operator: NodeReporterMetricsPort, FELIX_PROMETHEUSREPORTERPORT (Calico Enterprise).
  9081: 'Calico Enterprise Felix reporter metrics',
  // Prometheus default port allocations (github.com/prometheus/prometheus/wiki/Default-port-allocations).
  9100: 'node-exporter',
  // The same list: bird_exporter, often run beside BIRD on the node's socket.
  9324: 'bird_exporter',
  // kubernetes.io/docs/reference/networking/ports-and-protocols/: kubelet API and healthz, kube-proxy metrics and healthz.
  10250: 'kubelet API',
  10248: 'kubelet healthz',
  10249: 'kube-proxy metrics',
  10256: 'kube-proxy healthz',
};

describe('the health and metrics port on the host network', () => {
  const c = podSpec(of('DaemonSet')[0]!).containers.find((x) => x.name === 'bird-confd')!;
  const address = c.args![c.args!.indexOf('--metrics-address') + 1]!;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));

  test('collides with nothing calico-node, Typha, kube-controllers, node-exporter or Kubernetes serves on the node', () => {
    assert.equal((podSpec(of('DaemonSet')[0]!) as unknown as { hostNetwork: boolean }).hostNetwork, true, 'the rule matters because the pod shares the host network');
    assert.ok(Number.isInteger(port) && port > 1024 && port < 32768, `${address}: an unprivileged port below the ephemeral range`);
    assert.equal(hostNetworkPorts[port], undefined, `--metrics-address ${address} takes the port of ${hostNetworkPorts[port]}`);
  });

  test('is served on the node\'s loopback only, and the image\'s CMD and HEALTHCHECK use the same address', () => {
    assert.equal(address.slice(0, address.lastIndexOf(':')), '127.0.0.1', 'the metrics of a host-network pod stay off the node\'s interfaces');
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    assert.equal(cmd[cmd.indexOf('--metrics-address') + 1], address);
    assert.match(/^HEALTHCHECK .*$/m.exec(dockerfile)![0], new RegExp(`fetch\\('http://${address.replace(/\./g, '\\.')}/livez'\\)`));
  });
});

describe('loop-prevention-patch.yaml', () => {
  const base = podSpec(daemonSet());
  const patched = podSpec(daemonSet('loop-prevention-patch.yaml'));
  const sidecar = (pod: PodSpec) => pod.containers.find((x) => x.name === 'bird-confd')!;
  const owner = (pod: PodSpec) => pod.initContainers!.find((x) => x.name === 'prepare-config-dir')!.env!.find((e) => e.name === 'CONFIG_OWNER')!.value;

  test('adds NET_ADMIN and nothing else, as root (a non-root user keeps no capability across exec)', () => {
    const s = sidecar(patched).securityContext!;
    assert.deepEqual(s.capabilities, { drop: ['ALL'], add: ['NET_ADMIN'] });
    assert.equal(s.runAsUser, 0);
    assert.equal(s.runAsNonRoot, false);
    assert.equal(s.allowPrivilegeEscalation, false);
    assert.equal(s.readOnlyRootFilesystem, true);
    // Everything else is as in daemonset.yaml.
    const strip = (pod: PodSpec) => ({ ...pod, containers: pod.containers.map((c) => ({ ...c, securityContext: undefined })), initContainers: pod.initContainers!.map((c) => ({ ...c, env: undefined })) });
    assert.deepEqual(strip(patched), strip(base));
  });

  test('the init container hands the config folder to the user the sidecar runs as, with and without the patch', () => {
    for (const pod of [base, patched]) {
      const s = sidecar(pod).securityContext!;
      assert.equal(owner(pod), `${s.runAsUser}:0`);
    }
    const init = base.initContainers!.find((x) => x.name === 'prepare-config-dir')!;
    assert.match(init.command!.join(' '), /chown -R "\$CONFIG_OWNER" \/etc\/calico\/confd\/config/);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  test('two stages on node:20-slim; the runtime copies the build output from the named build stage', () => {
    const froms = lines.filter((l) => /^FROM /i.test(l));
    assert.deepEqual(froms, ['FROM node:20-slim AS build', 'FROM node:20-slim']);
    const stages = new Set(froms.map((f) => /\bAS (\S+)/i.exec(f)?.[1]).filter(Boolean));
    for (const l of lines.filter((x) => /^COPY --from=/i.test(x))) assert.ok(stages.has(/--from=(\S+)/.exec(l)![1]!), l);
    // What the runtime takes from the build stage is what the build writes (tsconfig outDir).
    assert.ok(lines.includes('COPY --from=build /app/dist/ dist/'));
    assert.equal((JSON.parse(readFileSync('tsconfig.json', 'utf8')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir, 'dist');
    assert.ok(lines.some((l) => l.startsWith('RUN npm ci && npm run build')));
    assert.ok(lines.some((l) => l.startsWith('RUN npm ci --omit=dev --ignore-scripts')));
  });

  test('every file copied from the context exists and is not excluded by .dockerignore', () => {
    const sources = lines.filter((l) => /^COPY /i.test(l) && !/--from=/.test(l)).flatMap((l) => l.split(/\s+/).slice(1, -1));
    assert.ok(sources.length >= 7);
    for (const s of sources) {
      assert.ok(existsSync(s), `COPY source ${s} does not exist`);
      const top = s.replace(/\/$/, '').split('/')[0]!;
      assert.ok(!ignored.includes(top), `COPY source ${s} is excluded by .dockerignore`);
    }
  });

  test('no BIRD in the image (the socket check asks calico-node\'s); iproute2 for loop prevention only', () => {
    // The packages of every `apt-get install` (up to the next && of its RUN line).
    const packages = [...text.matchAll(/apt-get install ([^&\n]*)/g)].flatMap((m) => m[1]!.split(/\s+/).filter((w) => w && !w.startsWith('-')));
    assert.deepEqual(packages, ['iproute2']);
    assert.doesNotMatch(text, /birdcl|policy-rc\.d/, 'leftovers of the Debian bird package');
    assert.doesNotMatch(text, /deploy\/README/, 'a pointer to a file that does not exist');
  });

  test('the user matches the DaemonSet, the entrypoint runs our CLI', () => {
    const user = lines.find((l) => /^USER /.test(l));
    const s = podSpec(of('DaemonSet')[0]!).containers.find((x) => x.name === 'bird-confd')!.securityContext!;
    assert.equal(user, `USER ${s.runAsUser}:${s.runAsGroup}`);
    assert.match(text, new RegExp(`useradd [^\\n]*--uid ${s.runAsUser}\\b`));
    assert.ok(lines.includes('ENTRYPOINT ["node", "bin/bird-confd.js"]'));
    assert.ok(existsSync('bin/bird-confd.js'));
  });
});
