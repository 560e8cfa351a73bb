import type { BGPConfiguration } from '../model/bgp-configuration.js';
import type { BGPPeer } from '../model/bgp-peer.js';
import type { BlockAffinity } from '../model/block-affinity.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Node } from '../model/node.js';
import type { Snapshot } from '../model/snapshot.js';
import { lowerBound } from '../model/sorted.js';
import { cidrKey, ipToSymbol, parseIp, parseNetwork, type Family, type Network } from './addresses.js';
import type { BlockView, PeerView } from './view-types.js';
import { parseSelector, SelectorParseError, type Selector } from './selector.js';

/** What the peering rules need to know of one Calico node. */
export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Normalized addresses, '' when unset. */
  readonly ipv4: string;
  readonly ipv6: string;
  /** The masked IPv4 network of the node's address (for IPIP cross-subnet), or null. */
  readonly networkV4: string | null;
  /** The node's own AS, '' when it uses the global one. */
  readonly asNumber: string;
  readonly rrClusterId: string;
  /** The node-specific listen port from `node.<name>` BGPConfiguration, 0 when unset. */
  readonly listenPort: number;
}

/** Cluster-wide BGP settings from the `default` BGPConfiguration, with Calico's defaults. */
export interface GlobalSettings {
  readonly asNumber: string;
  readonly meshEnabled: boolean;
  readonly logLevel: string | null;
  readonly listenPort: number;
  readonly clusterCidrs: readonly Network[];
  readonly externalCidrs: readonly Network[];
}

/** A BGPPeer with its selectors parsed and its peerIP split. */
export interface PeerSpec {
  readonly name: string;
  readonly resource: BGPPeer;
  /** The local side: a selector, one node name, or everything (a global peer). */
  readonly local: { readonly kind: 'global' } | { readonly kind: 'node'; readonly node: string } | { readonly kind: 'selector'; readonly selector: Selector };
  /** The remote side: Calico nodes by selector, or one address. */
  readonly remote: { readonly kind: 'selector'; readonly selector: Selector } | { readonly kind: 'ip'; readonly ip: string; readonly port: number; readonly asNumber: string };
}

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
  readonly mesh: Readonly<Record<Family, readonly MeshEntry[]>>;
  /**
   * Per family, which node owns each mesh address, for patching the mesh after a change; null
   * when the mesh is off or two nodes share an address (then the mesh is rebuilt).
   */
  readonly meshOwners: Readonly<Record<Family, Overlay<string, string> | null>>;
  /** IPAM blocks per node and family, in key order (a node's blocks are parsed when first asked for). */
  readonly blocks: NodeBlocks;
  readonly diagnostics: readonly Diagnostic[];
  /** The diagnostics of the node and configuration part alone. */
  readonly coreDiagnostics: readonly Diagnostic[];
  /** The snapshot revisions each part was derived at (see clusterFacts' `previous`). */
  readonly revisions: {
    readonly config: number;
    readonly node: number;
    readonly kubeNode: number;
    readonly peers: number;
    readonly blocks: number;
  };
}

/**
 * A map made of a base map and a small set of later changes (null: removed), so that one change
 * makes a new map in time proportional to the changes, not to the map. The base is rebuilt once
 * the changes grow large.
 */
export class Overlay<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly changes: ReadonlyMap<K, V | null>,
  ) {}

  static of<K, V>(base: ReadonlyMap<K, V>): Overlay<K, V> {
    return new Overlay(base, new Map());
  }

  get(key: K): V | undefined {
    const changed = this.changes.get(key);
    if (changed === undefined) return this.base.get(key);
    return changed ?? undefined;
  }

  /** A new overlay with `updates` applied (null removes); this one is unchanged. */
  with(updates: ReadonlyMap<K, V | null>): Overlay<K, V> {
    const changes = new Map(this.changes);
    for (const [k, v] of updates) changes.set(k, v);
    if (changes.size <= OVERLAY_LIMIT) return new Overlay(this.base, changes);
    const base = new Map(this.base);
    for (const [k, v] of changes) {
      if (v === null) base.delete(k);
      else base.set(k, v);
    }
    return new Overlay(base, new Map());
  }
}

const OVERLAY_LIMIT = 512;

/** One node as a mesh neighbour: the two finished peer views (active and passive side). */
export interface MeshEntry {
  readonly node: string;
  readonly ip: string;
  /** The node that has this address first (by name), when this one duplicates it; else null. */
  readonly duplicateOf: string | null;
  readonly active: PeerView;
  readonly passive: PeerView;
}

/** Options that come from the environment in Calico; passed in, never read here. */
export interface ClusterOptions {
  /** CALICO_ADVERTISE_CLUSTER_IPS: overrides serviceClusterIPs (comma-separated CIDRs). */
  readonly advertiseClusterIps?: string;
}

/**
 * Collects the cluster facts from a snapshot. With `previous` (facts of an earlier state of the
 * same snapshot, same options), the parts whose kinds did not change are reused as they are, so
 * a change to one Service or block does not recompute nodes, peers and the mesh.
 */
export function clusterFacts(snapshot: Snapshot, options: ClusterOptions = {}, previous?: ClusterFacts): ClusterFacts {
  const revisions = {
    config: snapshot.kindRevision('BGPConfiguration'),
    node: snapshot.kindRevision('Node'),
    kubeNode: snapshot.kindRevision('KubeNode'),
    peers: snapshot.kindRevision('BGPPeer'),
    blocks: snapshot.kindRevision('BlockAffinity'),
  };
  // The core (configuration and nodes) is reused, patched after node changes alone, or rebuilt.
  const sameConfig = previous?.revisions.config === revisions.config;
  const sameNodes = previous?.revisions.node === revisions.node && previous.revisions.kubeNode === revisions.kubeNode;
  const core = previous && sameConfig && sameNodes ? previous : (previous && sameConfig ? patchedCore(snapshot, previous) : null) ?? coreFacts(snapshot, options);
  const peerDiagnostics: Diagnostic[] = [];
  const peers = previous && previous.revisions.peers === revisions.peers && core === previous ? previous.peers : snapshot.list('BGPPeer').flatMap((p) => peerSpec(p, peerDiagnostics));
  const blocks = previous && previous.revisions.blocks === revisions.blocks ? previous.blocks : blocksByNode(snapshot);
  return {
    global: core.global, nodes: core.nodes, nodeList: core.nodeList, nodeConfigs: core.nodeConfigs, defaultConfig: core.defaultConfig,
    peers, mesh: core.mesh, meshOwners: core.meshOwners, diagnostics: peers === previous?.peers ? previous.diagnostics : [...core.coreDiagnostics, ...peerDiagnostics],
    coreDiagnostics: core.coreDiagnostics, blocks, revisions,
  };
}

type CoreFacts = Omit<ClusterFacts, 'blocks' | 'revisions' | 'peers' | 'diagnostics'>;

function coreFacts(snapshot: Snapshot, options: ClusterOptions): CoreFacts {
  const diagnostics: Diagnostic[] = [];
  const defaultConfig = snapshot.get('BGPConfiguration', 'default');
  const nodeConfigs = new Map<string, BGPConfiguration>();
  for (const cfg of snapshot.list('BGPConfiguration')) {
    const name = cfg.metadata.name;
    if (name.startsWith('node.')) nodeConfigs.set(name.slice('node.'.length), cfg);
    else if (name !== 'default') {
      diagnostics.push({ severity: 'warning', object: `BGPConfiguration/${name}`, message: 'only "default" and "node.<name>" are used; ignored' });
    }
  }
  const global = globalSettings(defaultConfig, options, diagnostics);
  const nodeList = calicoNodes(snapshot).map((n) => nodeInfo(n, nodeConfigs.get(n.metadata.name)?.spec.listenPort ?? 0));
  const nodes = Overlay.of(new Map(nodeList.map((n) => [n.name, n])));
  const v4 = meshOf(nodeList, global, 'ipv4');
  const v6 = meshOf(nodeList, global, 'ipv6');
  return { global, nodes, nodeList, nodeConfigs, defaultConfig, mesh: { ipv4: v4.entries, ipv6: v6.entries }, meshOwners: { ipv4: v4.owners, ipv6: v6.owners }, coreDiagnostics: diagnostics };
}

/** Beyond this many changed nodes, a full pass is as quick as patching. */
const PATCH_LIMIT = 256;

/**
 * The core facts after changes to Nodes only (the BGP configuration unchanged): the previous
 * node list with the changed nodes replaced, added or removed, found through the snapshot's
 * change log. Null when the log does not reach back or too much changed.
 */
function patchedCore(snapshot: Snapshot, previous: ClusterFacts): CoreFacts | null {
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
    const info = nodeInfo(resource, previous.nodeConfigs.get(name)?.spec.listenPort ?? 0);
    if (present) nodeList[at] = info;
    else nodeList.splice(at, 0, info);
    updates.set(name, info);
  }
  const global = previous.global;
  const patch = (family: Family) => patchMesh(previous, updates, family) ?? meshOf(nodeList, global, family);
  const v4 = patch('ipv4');
  const v6 = patch('ipv6');
  return {
    global, nodes: previous.nodes.with(updates), nodeList, nodeConfigs: previous.nodeConfigs, defaultConfig: previous.defaultConfig,
    mesh: { ipv4: v4.entries, ipv6: v6.entries }, meshOwners: { ipv4: v4.owners, ipv6: v6.owners }, coreDiagnostics: previous.coreDiagnostics,
  };
}

interface MeshFamily {
  readonly entries: readonly MeshEntry[];
  readonly owners: Overlay<string, string> | null;
}

/** The mesh of one family built from the whole node list. */
function meshOf(nodeList: readonly NodeInfo[], global: GlobalSettings, family: Family): MeshFamily {
  if (!global.meshEnabled) return { entries: noEntries, owners: null };
  const { entries, owners, duplicates } = meshEntries(nodeList, global, family);
  return { entries, owners: duplicates ? null : Overlay.of(owners) };
}

/**
 * The previous mesh of one family with the changed nodes' entries replaced, in time proportional
 * to the change. Null when it must be rebuilt: no owner index (mesh off, or shared addresses
 * before), or a changed node now shares an address with another.
 */
function patchMesh(previous: ClusterFacts, updates: ReadonlyMap<string, NodeInfo | null>, family: Family): MeshFamily | null {
  const owners = previous.meshOwners[family];
  if (!owners) return null;
  const entries = previous.mesh[family].slice();
  const ownerUpdates = new Map<string, string | null>();
  const ownerOf = (ip: string) => (ownerUpdates.has(ip) ? ownerUpdates.get(ip) ?? undefined : owners.get(ip));
  const ipOf = (n: NodeInfo | null | undefined) => (n ? (family === 'ipv4' ? n.ipv4 : n.ipv6) : '');
  for (const [name, info] of updates) {
    const oldIp = ipOf(previous.nodes.get(name));
    if (oldIp) {
      const at = lowerBound(entries, name, byNode);
      if (entries[at]?.node === name) entries.splice(at, 1);
      if (ownerOf(oldIp) === name) ownerUpdates.set(oldIp, null);
    }
    const ip = ipOf(info);
    if (!ip || !info) continue;
    if (ownerOf(ip) !== undefined) return null;
    ownerUpdates.set(ip, name);
    const views = meshPeerViews(info, ip, previous.global, family === 'ipv4' ? 0 : 1);
    entries.splice(lowerBound(entries, name, byNode), 0, { node: name, ip, duplicateOf: null, active: views.active, passive: views.passive });
  }
  return { entries, owners: owners.with(ownerUpdates) };
}

const byNode = (e: MeshEntry) => e.node;

/** No mesh: every node's mesh section says so, and no entries are built. */
const noEntries: readonly MeshEntry[] = Object.freeze([]);

const passiveOption: readonly string[] = Object.freeze(['passive on;']);
const noOptions: readonly string[] = Object.freeze([]);

/** A node's two mesh peer views, with what they were built from. */
interface MeshViews {
  readonly ip: string;
  readonly asNumber: string;
  readonly port: number;
  readonly active: PeerView;
  readonly passive: PeerView;
}

/** Per node (object) and family slot: the mesh peer views last built. */
const meshViews = new WeakMap<NodeInfo, [MeshViews | undefined, MeshViews | undefined]>();

function meshEntries(nodeList: readonly NodeInfo[], global: GlobalSettings, family: Family): { entries: MeshEntry[]; owners: Map<string, string>; duplicates: boolean } {
  const out: MeshEntry[] = [];
  let duplicates = false;
  const owners = new Map<string, string>();
  for (const n of nodeList) {
    const ip = family === 'ipv4' ? n.ipv4 : n.ipv6;
    if (!ip) continue;
    const duplicateOf = owners.get(ip) ?? null;
    if (!duplicateOf) owners.set(ip, n.name);
    else duplicates = true;
    const views = meshPeerViews(n, ip, global, family === 'ipv4' ? 0 : 1);
    out.push({ node: n.name, ip, duplicateOf, active: views.active, passive: views.passive });
  }
  return { entries: out, owners, duplicates };
}

/** The two mesh peer views of a node, kept while the node and the global AS and port are unchanged. */
function meshPeerViews(n: NodeInfo, ip: string, global: GlobalSettings, slot: 0 | 1): MeshViews {
  const port = n.listenPort || global.listenPort;
  const asNumber = n.asNumber || global.asNumber;
  let slots = meshViews.get(n);
  const known = slots?.[slot];
  if (known && known.ip === ip && known.asNumber === asNumber && known.port === port) return known;
  if (!slots) meshViews.set(n, (slots = [undefined, undefined]));
  const active: PeerView = {
    kind: 'mesh', origin: `node ${n.name}`, skip: null, name: `Mesh_${ipToSymbol(ip)}`, peerIp: ip, port, asNumber,
    neighbor: `neighbor ${ip}${port ? ` port ${port}` : ''} as ${asNumber};`, options: noOptions, hasPassword: false, sources: noOptions,
  };
  const views = { ip, asNumber, port, active, passive: { ...active, options: passiveOption } };
  slots[slot] = views;
  return views;
}

const blockViews = new WeakMap<BlockAffinity, BlockView | null>();

function blockView(b: BlockAffinity): BlockView | null {
  let view = blockViews.get(b);
  if (view === undefined) {
    const net = parseNetwork(b.spec.cidr);
    view = net ? { cidr: net.cidr, state: b.spec.state, aggregate: b.spec.state === '' || b.spec.state === 'confirmed' } : null;
    blockViews.set(b, view);
  }
  return view;
}

/** The IPAM blocks of each node, by family. */
export interface NodeBlocks {
  get(node: string): Readonly<Record<Family, readonly BlockView[]>> | undefined;
}

/**
 * The block affinities grouped by node; each node's are parsed, deduplicated and sorted when that
 * node is first asked for, so rendering one node parses its own blocks, not the whole cluster's.
 */
function blocksByNode(snapshot: Snapshot): NodeBlocks {
  const raw = new Map<string, BlockAffinity[]>();
  for (const b of snapshot.list('BlockAffinity')) {
    const mine = raw.get(b.spec.node);
    if (mine) mine.push(b);
    else raw.set(b.spec.node, [b]);
  }
  const views = new Map<string, Record<Family, BlockView[]>>();
  return {
    get(node) {
      let v = views.get(node);
      const mine = raw.get(node);
      if (v === undefined && mine) views.set(node, (v = nodeBlocks(mine)));
      return v;
    },
  };
}

/** One node's blocks by family, in key order; of two with the same CIDR the first (by name) wins. */
function nodeBlocks(affinities: readonly BlockAffinity[]): Record<Family, BlockView[]> {
  const keyed = new Map<string, BlockView>();
  for (const b of affinities) {
    const view = blockView(b);
    if (!view) continue;
    const key = cidrKey(view.cidr);
    if (!keyed.has(key)) keyed.set(key, view);
  }
  const sorted = [...keyed.keys()].sort().map((k) => keyed.get(k)!);
  return { ipv4: sorted.filter((b) => !b.cidr.includes(':')), ipv6: sorted.filter((b) => b.cidr.includes(':')) };
}

/** Calico Nodes, plus Kubernetes Nodes standing for a Calico Node of the same name that is not given. */
export function calicoNodes(snapshot: Snapshot): Node[] {
  const byName = new Map<string, Node>();
  for (const kube of snapshot.list('KubeNode')) if (kube.calicoNode) byName.set(kube.metadata.name, kube.calicoNode);
  for (const node of snapshot.list('Node')) byName.set(node.metadata.name, node);
  return [...byName.keys()].sort().map((k) => byName.get(k)!);
}

function globalSettings(cfg: BGPConfiguration | undefined, options: ClusterOptions, diagnostics: Diagnostic[]): GlobalSettings {
  const spec = cfg?.spec ?? {};
  const cidrs = (entries: readonly { cidr: string }[] | null | undefined) =>
    (entries ?? []).map((e) => parseNetwork(e.cidr)).filter((n): n is Network => n !== null);
  let clusterCidrs = cidrs(spec.serviceClusterIPs);
  if (options.advertiseClusterIps) {
    const list = options.advertiseClusterIps.split(',').map((s) => s.trim()).filter(Boolean);
    const parsed = list.map((s) => parseNetwork(s));
    if (parsed.some((p) => p === null)) {
      diagnostics.push({ severity: 'error', object: 'env CALICO_ADVERTISE_CLUSTER_IPS', message: 'not a comma-separated list of CIDRs' });
    } else {
      clusterCidrs = parsed as Network[];
    }
  }
  return {
    asNumber: spec.asNumber ?? '64512',
    meshEnabled: spec.nodeToNodeMeshEnabled ?? true,
    logLevel: spec.logSeverityScreen ? spec.logSeverityScreen.toLowerCase() : null,
    listenPort: spec.listenPort ?? 0,
    clusterCidrs,
    externalCidrs: cidrs(spec.serviceExternalIPs),
  };
}

// Resources are immutable and keep their identity while unchanged, so derived values are kept per
// resource object: after one change, only that object is derived again.
const nodeInfos = new WeakMap<Node, NodeInfo>();

/** The node facts of a Calico Node (kept per resource object). */
export function nodeInfo(node: Node, listenPort: number): NodeInfo {
  const known = nodeInfos.get(node);
  if (known && known.listenPort === listenPort) return known;
  const info = deriveNodeInfo(node, listenPort);
  nodeInfos.set(node, info);
  return info;
}

function deriveNodeInfo(node: Node, listenPort: number): NodeInfo {
  const bgp = node.spec.bgp;
  const v4 = bgp?.ipv4Address ? parseNetwork(bgp.ipv4Address) : null;
  const v6 = bgp?.ipv6Address ? parseNetwork(bgp.ipv6Address) : null;
  return {
    name: node.metadata.name,
    labels: node.metadata.labels,
    ipv4: v4?.address ?? '',
    ipv6: v6?.address ?? '',
    networkV4: v4?.cidr ?? null,
    asNumber: bgp?.asNumber ?? '',
    rrClusterId: bgp?.routeReflectorClusterID ?? '',
    listenPort,
  };
}

const peerSpecs = new WeakMap<BGPPeer, { specs: PeerSpec[]; diagnostics: Diagnostic[] }>();

/** A BGPPeer as peering rules read it (empty when invalid); kept per resource object. */
export function peerSpecsOf(peer: BGPPeer): PeerSpec[] {
  return peerSpec(peer, []);
}

function peerSpec(peer: BGPPeer, diagnostics: Diagnostic[]): PeerSpec[] {
  let known = peerSpecs.get(peer);
  if (!known) {
    const own: Diagnostic[] = [];
    known = { specs: derivePeerSpec(peer, own), diagnostics: own };
    peerSpecs.set(peer, known);
  }
  diagnostics.push(...known.diagnostics);
  return known.specs;
}

function derivePeerSpec(peer: BGPPeer, diagnostics: Diagnostic[]): PeerSpec[] {
  const object = `BGPPeer/${peer.metadata.name}`;
  const fail = (field: string, message: string): PeerSpec[] => {
    diagnostics.push({ severity: 'error', object, field, message });
    return [];
  };
  const spec = peer.spec;
  const selector = (field: 'nodeSelector' | 'peerSelector', text: string): Selector | string => {
    try {
      return parseSelector(text);
    } catch (err) {
      if (err instanceof SelectorParseError) return err.message;
      throw err;
    }
  };
  let local: PeerSpec['local'] = { kind: 'global' };
  if (spec.nodeSelector) {
    const s = selector('nodeSelector', spec.nodeSelector);
    if (typeof s === 'string') return fail('spec.nodeSelector', s);
    local = { kind: 'selector', selector: s };
  } else if (spec.node) {
    local = { kind: 'node', node: spec.node };
  }
  if (spec.peerSelector) {
    if (spec.peerIP) return fail('spec.peerSelector', 'cannot be combined with spec.peerIP');
    const s = selector('peerSelector', spec.peerSelector);
    if (typeof s === 'string') return fail('spec.peerSelector', s);
    return [{ name: peer.metadata.name, resource: peer, local, remote: { kind: 'selector', selector: s } }];
  }
  if (!spec.peerIP) return fail('spec', 'needs spec.peerIP or spec.peerSelector');
  const split = splitPeerIp(spec.peerIP);
  if (typeof split === 'string') return fail('spec.peerIP', split);
  if (!spec.asNumber || spec.asNumber === '0') return fail('spec.asNumber', 'required with spec.peerIP (1..4294967295)');
  return [{ name: peer.metadata.name, resource: peer, local, remote: { kind: 'ip', ip: split.ip, port: split.port, asNumber: spec.asNumber } }];
}

/** Splits `IP`, `IP:port`, `[IPv6]` or `[IPv6]:port`; the port is plain decimal 1..65535. Returns an error text. */
export function splitPeerIp(text: string): { ip: string; port: number } | string {
  let host = text;
  let portText: string | null = null;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2] ?? null;
  } else if (text.split(':').length === 2) {
    [host, portText] = text.split(':') as [string, string];
  }
  const ip = parseIp(host);
  if (!ip || (bracket && ip.family !== 'ipv6')) return `not an IP address, IP:port or [IPv6]:port: ${JSON.stringify(text.slice(0, 80))}`;
  if (portText === null) return { ip: ip.text, port: 0 };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `port must be a decimal number from 1 to 65535: ${JSON.stringify(portText.slice(0, 20))}`;
  }
  return { ip: ip.text, port: Number(portText) };
}
