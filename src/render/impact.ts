import type { Resource } from '../model/resources.js';
import type { Snapshot } from '../model/snapshot.js';
import type { Node } from '../model/node.js';
import type { ClusterFacts, NodeInfo } from './facts/cluster.js';
import { nodeInfo } from './facts/nodes.js';
import { peerSpecs } from './facts/peer-specs.js';
import { isLocal, isReverseLocal, localNodes, reverseLocalNodes } from './facts/peerings.js';
import { defaultCalicoVersion, type CalicoVersion } from './profiles.js';
import type { RenderStore } from './store.js';
import { isMeshPasswordSecret, services332Affected, workloadStatusAffected, type EndpointNodes } from './v3-32/impact.js';
import type { ViewOptions } from './view/context.js';

/** A change to one resource: what it was before (or null) and what it is now (or null). */
export interface Change {
  readonly before: Resource | null;
  readonly after: Resource | null;
}

/** Which node views a change can affect: every one, or a named set (possibly empty). */
export type Affected = { readonly all: true } | { readonly all: false; readonly nodes: ReadonlySet<string> };

/** What decides which views a change reaches, beyond the cluster: the render options that matter. */
export interface ImpactOptions {
  /** Where password Secrets are read (default kube-system). */
  readonly secretNamespace?: string;
  /** The output profile rendered (default: the newest): each reads different kinds. */
  readonly calicoVersion?: CalicoVersion;
  /** CALICO_K8S_NODE_REF of one node: service endpoints on Kubernetes node `ref` belong to Calico node `node`. */
  readonly k8sNodeRef?: { readonly node: string; readonly ref: string };
}

/** The impact options of the daemon of `node` rendering with `options`. */
export function impactOptionsOf(node: string, options: ViewOptions): ImpactOptions {
  const ref = options.k8sNodeRef;
  return { secretNamespace: options.secretNamespace, calicoVersion: options.calicoVersion, k8sNodeRef: ref && ref !== node ? { node, ref } : undefined };
}

const everyNode: Affected = { all: true };
const none: Affected = { all: false, nodes: new Set() };

/**
 * The node views a change can affect, so that a daemon recomputes its view only when needed and a
 * cluster-wide preview only the views that moved. Conservative: when in doubt, every node.
 * `facts` are the facts after the change, derived with `store`. A kind the profile does not read
 * (v1 Endpoints under v3.32; EndpointSlices, BGPFilters and endpoint statuses under v3.17)
 * reaches no view.
 */
export function affectedNodes(change: Change, facts: ClusterFacts, snapshot: Snapshot, store: RenderStore, options: ImpactOptions = {}): Affected {
  const r = change.after ?? change.before;
  if (!r) return none;
  const v317 = (options.calicoVersion ?? defaultCalicoVersion) === '3.17';
  switch (r.kind) {
    case 'BlockAffinity': {
      const nodes = new Set<string>();
      for (const b of [change.before, change.after]) if (b?.kind === 'BlockAffinity') nodes.add(b.spec.node);
      return { all: false, nodes };
    }
    case 'Service':
      return v317 ? serviceAffected(change, facts, snapshot, endpointNodesOf(options)) : services332Affected(change, facts, snapshot, store, endpointNodesOf(options));
    case 'Endpoints':
      return v317 ? serviceAffected(change, facts, snapshot, endpointNodesOf(options)) : none;
    case 'EndpointSlice':
      return v317 ? none : services332Affected(change, facts, snapshot, store, endpointNodesOf(options));
    // Every BGPFilter is rendered into every node's files.
    case 'BGPFilter':
      return v317 ? none : everyNode;
    case 'WorkloadEndpointStatus':
      return v317 ? none : workloadStatusAffected(change, facts);
    case 'Secret': {
      if ((r.metadata.namespace ?? 'default') !== (options.secretNamespace ?? 'kube-system')) return none;
      const used = facts.peers.some((p) => p.resource.spec.password?.secretKeyRef?.name === r.metadata.name) || (!v317 && isMeshPasswordSecret(facts, r.metadata.name));
      return used ? everyNode : none;
    }
    case 'KubeNode': {
      // A Kubernetes Node matters only while no Calico Node of its name exists, and only through
      // what it derives (the snapshot drops its other annotations).
      if (snapshot.get('Node', r.metadata.name)) return none;
      const calico = (x: Resource | null) => (x?.kind === 'KubeNode' ? x.calicoNode : null);
      return nodeAffected([calico(change.before), calico(change.after)], facts, store);
    }
    case 'Node':
      return nodeAffected([change.before as Node | null, change.after as Node | null], facts, store);
    case 'BGPPeer': {
      const nodes = new Set<string>();
      for (const res of [change.before, change.after]) {
        if (res?.kind !== 'BGPPeer') continue;
        for (const spec of peerSpecs(store, res)) {
          if (spec.local.kind === 'global') return everyNode;
          if (spec.local.kind === 'node') nodes.add(spec.local.node);
          for (const n of localNodes(facts, spec)) nodes.add(n.name);
          for (const n of reverseLocalNodes(facts, spec)) nodes.add(n.name);
        }
      }
      return { all: false, nodes };
    }
    default:
      return everyNode;
  }
}

/** Kubernetes node names to Calico node names: the same, plus the node whose CALICO_K8S_NODE_REF it is. */
function endpointNodesOf(options: ImpactOptions): EndpointNodes {
  const ref = options.k8sNodeRef;
  return ref ? (name) => (name === ref.ref ? [name, ref.node] : [name]) : (name) => [name];
}

/** Calico v3.17: a Service's host routes come from the nodes with a ready endpoint in its v1 Endpoints. */
function serviceAffected(change: Change, facts: ClusterFacts, snapshot: Snapshot, endpointNodes: EndpointNodes): Affected {
  if (facts.global.clusterCidrs.length === 0 && facts.global.externalCidrs.length === 0) return none;
  const nodes = new Set<string>();
  for (const res of [change.before, change.after]) {
    if (!res) continue;
    // The Endpoints of a Service and the Service of an Endpoints, before or after: any node
    // that had or has a ready endpoint may gain or lose routes.
    const ns = res.metadata.namespace ?? 'default';
    const eps = res.kind === 'Endpoints' ? res : snapshot.get('Endpoints', res.metadata.name, ns);
    for (const e of [eps, res.kind === 'Endpoints' ? res : undefined]) {
      if (e?.kind !== 'Endpoints') continue;
      for (const s of e.subsets) for (const a of s.addresses ?? []) if (a.nodeName) for (const n of endpointNodes(a.nodeName)) nodes.add(n);
    }
  }
  return { all: false, nodes };
}

/**
 * The views a Calico Node change reaches: its own; every node while the mesh is on; otherwise the
 * nodes on the other side of each BGPPeer it was or is part of (by selector, name or address).
 */
function nodeAffected(versions: readonly (Node | null)[], facts: ClusterFacts, store: RenderStore): Affected {
  if (facts.global.meshEnabled) return everyNode;
  const infos: NodeInfo[] = versions.filter((n): n is Node => n !== null).map((n) => nodeInfo(store, n, facts.nodeConfigs.get(n.metadata.name)?.spec.listenPort ?? 0));
  const nodes = new Set(infos.map((i) => i.name));
  for (const p of facts.peers) {
    for (const info of infos) {
      if (isReverseLocal(facts, p, info)) {
        if (p.local.kind === 'global') return everyNode;
        for (const n of localNodes(facts, p)) nodes.add(n.name);
      }
      if (isLocal(facts, p, info)) for (const n of reverseLocalNodes(facts, p)) nodes.add(n.name);
    }
  }
  return { all: false, nodes };
}

/** Whether a change can affect the view of `node`. */
export function affects(a: Affected, node: string): boolean {
  return a.all || a.nodes.has(node);
}
