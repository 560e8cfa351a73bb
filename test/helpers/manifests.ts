import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './shared.js';

/** A parsed YAML document. */
export type Obj = Record<string, unknown>;

/** An environment variable of a container, literal or from the pod's fields. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string } };
}

/** A container's security context, as far as the tests read it. */
export interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsNonRoot?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
}

/** An HTTP probe. */
export interface HttpProbe {
  readonly httpGet: { readonly host?: string; readonly path: string; readonly port: number };
}

/** A container of a pod template. */
export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly securityContext?: SecurityContext;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly livenessProbe?: HttpProbe;
  readonly readinessProbe?: HttpProbe;
}

/** A volume of a pod template. */
export interface Volume {
  readonly name: string;
  readonly hostPath?: { readonly path: string; readonly type?: string };
  readonly emptyDir?: Obj;
}

/** A pod template's spec. */
export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly hostNetwork?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly volumes?: readonly Volume[];
  readonly securityContext?: { readonly supplementalGroups?: readonly number[] };
}

/** The YAML documents of `deploy/<file>`. */
export function deployDocs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(repoRoot, 'deploy', file), 'utf8')).map((d) => {
    assert.deepEqual(d.errors.map(String), [], `deploy/${file}: YAML errors`);
    return d.toJS() as Obj;
  });
}

/** The pod template spec of a DaemonSet. */
export const podSpecOf = (ds: Obj): PodSpec => ((ds.spec as Obj).template as Obj).spec as PodSpec;

/** The named container of a pod spec (init containers included); throws when there is none. */
export function containerOf(pod: PodSpec, name: string): Container {
  const c = [...pod.containers, ...(pod.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} in the pod`);
  return c;
}

/** The key that identifies an item of a list in a strategic merge patch, by the list's field name. */
const mergeKeys: Record<string, string> = { containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath' };

/**
 * A strategic merge patch as `kubectl patch` applies it to the fields our manifests use: maps
 * merge, lists of containers, env, volumes and volume mounts merge by their key, any other list
 * (e.g. `capabilities.add`) and any scalar is replaced.
 */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(base) && Array.isArray(patch) && mergeKeys[field]) {
    const key = mergeKeys[field]!;
    const merged = base.map((item: Obj) => {
      const p = (patch as Obj[]).find((x) => x[key] === item[key]);
      return p ? strategicMerge(item, p) : item;
    });
    return [...merged, ...(patch as Obj[]).filter((p) => !base.some((item: Obj) => item[key] === p[key]))];
  }
  if (isMap(base) && isMap(patch)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? strategicMerge(base[k], v, k) : v;
    return out;
  }
  return patch;
}

function isMap(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** deploy/daemonset.yaml's DaemonSet with the given patch files of deploy/ applied in order. */
export function daemonSet(...patches: string[]): Obj {
  const ds = deployDocs('daemonset.yaml').find((d) => d.kind === 'DaemonSet');
  assert.ok(ds, 'deploy/daemonset.yaml has no DaemonSet');
  return patches.reduce((acc, file) => strategicMerge(acc, deployDocs(file)[0]) as Obj, ds);
}
