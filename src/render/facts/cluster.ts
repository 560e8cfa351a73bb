import type { BGPConfiguration } from '../../model/bgp-configuration.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import type { Snapshot } from '../../model/snapshot.js';
import { lowerBound } from '../../model/sorted.js';
import type { Family } from '../addresses.js';
import type { RenderStore } from '../store.js';
import { blocksByNode, type NodeBlocks } from './blocks.js';
import { meshOf, patchMesh, type MeshEntry, type MeshFamily } from './mesh.js';
import { calicoNodes, globalSettings, nodeInfo, type ClusterOptions, type GlobalSettings, type NodeInfo } from './nodes.js';
import { Overlay } from './overlay.js';
import { peerSpecs, type PeerSpec } from './peer-specs.js';

/** Everything about the cluster that does not depend on which node is rendered. */
export interface ClusterFacts {
  readonly global: GlobalSettings;
  /** Nodes by name (lookups only; nodeList has them in order). */
  readonly nodes: Overlay<string, NodeInfo>;
  /** Nodes sorted by name. */
  readonly nodeList: readonly NodeInfo[];
  readonly nodeConfigs: ReadonlyMap<string, BGPConfiguration>;
  readonly defaultConfig: BGPConfiguration | undefined;
  readonly peers: readonly PeerSpec[];
  /** Each node as a mesh neighbour, per family, in node-name order (shared by every node's view). */
  readonly mesh: Readonly<Record<Family, MeshFamily>>;
  /** IPAM blocks per node and family, in key order (a node's are parsed when first asked for). */
  readonly blocks: NodeBlocks;
  readonly diagnostics: readonly Diagnostic[];
  /** The diagnostics of the node and configuration part alone. */
  readonly coreDiagnostics: readonly Diagnostic[];
  /** The snapshot revisions each part was derived at. */
  readonly revisions: Revisions;
  /** The options the facts were derived with. */
  readonly options: ClusterOptions;
}

interface Revisions {
  readonly config: number;
  readonly node: number;
  readonly kubeNode: number;
  readonly peers: number;
  readonly blocks: number;
}

export type { ClusterOptions, GlobalSettings, NodeInfo } from './nodes.js';
export type { MeshEntry } from './mesh.js';
export type { PeerSpec } from './peer-specs.js';

/**
 * The cluster facts of a snapshot. The facts the store holds from an earlier state of the same
 * snapshot (same options) are reused part by part: a change to one Service or block does not
 * recompute nodes, peers and the mesh, and a change to a few Nodes patches the node list and the
 * mesh. The result is kept in the store for the next call.
 */
export function clusterFacts(snapshot: Snapshot, options: ClusterOptions, store: RenderStore): ClusterFacts {
  const previous = store.facts?.options.advertiseClusterIps === options.advertiseClusterIps ? store.facts : undefined;
  const revisions: Revisions = {
    config: snapshot.kindRevision('BGPConfiguration'),
    node: snapshot.kindRevision('Node'),
    kubeNode: snapshot.kindRevision('KubeNode'),
    peers: snapshot.kindRevision('BGPPeer'),
    blocks: snapshot.kindRevision('BlockAffinity'),
  };
  if (previous && sameRevisions(previous.revisions, revisions)) return previous;
  const sameConfig = previous?.revisions.config === revisions.config;
  const sameNodes = previous?.revisions.node === revisions.node && previous.revisions.kubeNode === revisions.kubeNode;
  const core = previous && sameConfig && sameNodes ? previous : (previous && sameConfig ? patchedCore(store, snapshot, previous) : null) ?? coreFacts(store, snapshot, options);
  const peerDiagnostics: Diagnostic[] = [];
  const peers = previous && previous.revisions.peers === revisions.peers && core === previous ? previous.peers : snapshot.list('BGPPeer').flatMap((p) => peerSpecs(store, p, peerDiagnostics));
  const blocks = previous && previous.revisions.blocks === revisions.blocks ? previous.blocks : blocksByNode(store, snapshot);
  const facts: ClusterFacts = {
    global: core.global, nodes: core.nodes, nodeList: core.nodeList, nodeConfigs: core.nodeConfigs, defaultConfig: core.defaultConfig,
    peers, mesh: core.mesh, diagnostics: peers === previous?.peers ? previous.diagnostics : [...core.coreDiagnostics, ...peerDiagnostics],
    coreDiagnostics: core.coreDiagnostics, blocks, revisions, options,
  };
  store.facts = facts;
  return facts;
}

function sameRevisions(a: Revisions, b: Revisions): boolean {
  return a.config === b.config && a.node === b.node && a.kubeNode === b.kubeNode && a.peers === b.peers && a.blocks === b.blocks;
}

type CoreFacts = Pick<ClusterFacts, 'global' | 'nodes' | 'nodeList' | 'nodeConfigs' | 'defaultConfig' | 'mesh' | 'coreDiagnostics'>;

/** What Calico reads from a `node.<name>` BGPConfiguration; the rest is read from `default` only. */
const nodeLevelFields = new Set(['listenPort', 'logSeverityScreen', 'communities', 'prefixAdvertisements']);

/** A field set on a node-level BGPConfiguration that Calico does not read there (quirk V23, kept) is said so, not ignored without a word. */
function nodeLevelWarnings(cfg: BGPConfiguration, diagnostics: Diagnostic[]): void {
  const ignored = Object.entries(cfg.spec).filter(([field, value]) => value !== null && value !== undefined && !nodeLevelFields.has(field));
  if (ignored.length === 0) return;
  diagnostics.push({
    severity: 'warning',
    object: `BGPConfiguration/${cfg.metadata.name}`,
    field: ignored.map(([field]) => `spec.${field}`).join(', '),
    message: 'ignored on a node-level BGPConfiguration, as Calico does: it reads only listenPort, logSeverityScreen, communities and prefixAdvertisements there; set the others in "default"',
  });
}

/** The node listen port a `node.<name>` BGPConfiguration sets, 0 when none. */
function listenPortOf(configs: ReadonlyMap<string, BGPConfiguration>, name: string): number {
  return configs.get(name)?.spec.listenPort ?? 0;
}

function coreFacts(store: RenderStore, snapshot: Snapshot, options: ClusterOptions): CoreFacts {
  const diagnostics: Diagnostic[] = [];
  const defaultConfig = snapshot.get('BGPConfiguration', 'default');
  const nodeConfigs = new Map<string, BGPConfiguration>();
  for (const cfg of snapshot.list('BGPConfiguration')) {
    const name = cfg.metadata.name;
    if (name.startsWith('node.')) {
      nodeConfigs.set(name.slice('node.'.length), cfg);
      nodeLevelWarnings(cfg, diagnostics);
    } else if (name !== 'default') {
      diagnostics.push({ severity: 'warning', object: `BGPConfiguration/${name}`, message: 'only "default" and "node.<name>" are used; ignored' });
    }
  }
  const global = globalSettings(defaultConfig, options, diagnostics);
  const nodeList = calicoNodes(snapshot).map((n) => nodeInfo(store, n, listenPortOf(nodeConfigs, n.metadata.name)));
  const nodes = Overlay.of(new Map(nodeList.map((n) => [n.name, n])));
  const mesh = { ipv4: meshOf(nodeList, global, 'ipv4'), ipv6: meshOf(nodeList, global, 'ipv6') };
  return { global, nodes, nodeList, nodeConfigs, defaultConfig, mesh, coreDiagnostics: diagnostics };
}

/** Beyond this many changed nodes, a full pass is as quick as patching. */
const PATCH_LIMIT = 256;

/**
 * The core facts after changes to Nodes only (the BGP configuration unchanged): the previous
 * node list with the changed nodes replaced, added or removed, found through the snapshot's
 * change log. Null when the log does not reach back or too much changed.
 */
function patchedCore(store: RenderStore, snapshot: Snapshot, previous: ClusterFacts): CoreFacts | null {
  const nodeKeys = snapshot.changedSince('Node', previous.revisions.node);
  const kubeKeys = snapshot.changedSince('KubeNode', previous.revisions.kubeNode);
  if (!nodeKeys || !kubeKeys || nodeKeys.length + kubeKeys.length > PATCH_LIMIT) return null;
  const nodeList = previous.nodeList.slice();
  const updates = new Map<string, NodeInfo | null>();
  for (const name of new Set([...nodeKeys, ...kubeKeys].map((k) => k.slice(k.indexOf('/') + 1)))) {
    const resource = snapshot.get('Node', name) ?? snapshot.get('KubeNode', name)?.calicoNode;
    const at = lowerBound(nodeList, name, (n) => n.name);
    const present = nodeList[at]?.name === name;
    if (!resource) {
      if (present) nodeList.splice(at, 1);
      updates.set(name, null);
      continue;
    }
    const info = nodeInfo(store, resource, listenPortOf(previous.nodeConfigs, name));
    if (present) nodeList[at] = info;
    else nodeList.splice(at, 0, info);
    updates.set(name, info);
  }
  return {
    global: previous.global, nodes: previous.nodes.with(updates), nodeList, nodeConfigs: previous.nodeConfigs, defaultConfig: previous.defaultConfig,
    mesh: { ipv4: patchedMesh(previous, nodeList, updates, 'ipv4'), ipv6: patchedMesh(previous, nodeList, updates, 'ipv6') }, coreDiagnostics: previous.coreDiagnostics,
  };
}

/** One family's mesh after node changes: the previous one patched, or built again from the node list. */
function patchedMesh(previous: ClusterFacts, nodeList: readonly NodeInfo[], updates: ReadonlyMap<string, NodeInfo | null>, family: Family): MeshFamily {
  return patchMesh(previous.mesh[family], previous.nodes, updates, family) ?? meshOf(nodeList, previous.global, family);
}
