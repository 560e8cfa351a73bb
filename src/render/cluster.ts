import type { BGPConfiguration } from '../model/bgp-configuration.js';
import type { BGPPeer } from '../model/bgp-peer.js';
import type { BlockAffinity } from '../model/block-affinity.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Node } from '../model/node.js';
import type { Snapshot } from '../model/snapshot.js';
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
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** Nodes sorted by name. */
  readonly nodeList: readonly NodeInfo[];
  readonly nodeConfigs: ReadonlyMap<string, BGPConfiguration>;
  readonly defaultConfig: BGPConfiguration | undefined;
  readonly peers: readonly PeerSpec[];
  /** Each node as a mesh neighbour, per family, in node-name order (shared by every node's view). */
  readonly mesh: Readonly<Record<Family, readonly MeshEntry[]>>;
  /** IPAM blocks per node and family, in key order. */
  readonly blocks: ReadonlyMap<string, Readonly<Record<Family, readonly BlockView[]>>>;
  readonly diagnostics: readonly Diagnostic[];
  /** The diagnostics of the node and configuration part alone. */
  readonly coreDiagnostics: readonly Diagnostic[];
  /** The snapshot revisions each part was derived at (see clusterFacts' `previous`). */
  readonly revisions: { readonly core: number; readonly peers: number; readonly blocks: number };
}

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

/** The kinds each part of the facts is derived from. */
const coreKinds = ['BGPConfiguration', 'Node', 'KubeNode'] as const;

function coreRevision(snapshot: Snapshot): number {
  return Math.max(...coreKinds.map((k) => snapshot.kindRevision(k)));
}

/**
 * Collects the cluster facts from a snapshot. With `previous` (facts of an earlier state of the
 * same snapshot, same options), the parts whose kinds did not change are reused as they are, so
 * a change to one Service or block does not recompute nodes, peers and the mesh.
 */
export function clusterFacts(snapshot: Snapshot, options: ClusterOptions = {}, previous?: ClusterFacts): ClusterFacts {
  const revisions = { core: coreRevision(snapshot), peers: snapshot.kindRevision('BGPPeer'), blocks: snapshot.kindRevision('BlockAffinity') };
  const core = previous && previous.revisions.core === revisions.core ? previous : coreFacts(snapshot, options);
  const peerDiagnostics: Diagnostic[] = [];
  const peers = previous && previous.revisions.peers === revisions.peers && core === previous ? previous.peers : snapshot.list('BGPPeer').flatMap((p) => peerSpec(p, peerDiagnostics));
  const blocks = previous && previous.revisions.blocks === revisions.blocks ? previous.blocks : blocksByNode(snapshot);
  return {
    global: core.global, nodes: core.nodes, nodeList: core.nodeList, nodeConfigs: core.nodeConfigs, defaultConfig: core.defaultConfig,
    peers, mesh: core.mesh, diagnostics: peers === previous?.peers ? previous.diagnostics : [...core.coreDiagnostics, ...peerDiagnostics],
    coreDiagnostics: core.coreDiagnostics, blocks, revisions,
  };
}

function coreFacts(snapshot: Snapshot, options: ClusterOptions): Omit<ClusterFacts, 'blocks' | 'revisions' | 'peers' | 'diagnostics'> {
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
  const nodes = new Map(nodeList.map((n) => [n.name, n]));
  const mesh = { ipv4: meshEntries(nodeList, global, 'ipv4'), ipv6: meshEntries(nodeList, global, 'ipv6') };
  return { global, nodes, nodeList, nodeConfigs, defaultConfig, mesh, coreDiagnostics: diagnostics };
}

const passiveOption: readonly string[] = Object.freeze(['passive on;']);
const noOptions: readonly string[] = Object.freeze([]);

const meshViews = new WeakMap<NodeInfo, Map<string, { active: PeerView; passive: PeerView }>>();

function meshEntries(nodeList: readonly NodeInfo[], global: GlobalSettings, family: Family): MeshEntry[] {
  const out: MeshEntry[] = [];
  const owners = new Map<string, string>();
  for (const n of nodeList) {
    const ip = family === 'ipv4' ? n.ipv4 : n.ipv6;
    if (!ip) continue;
    const duplicateOf = owners.get(ip) ?? null;
    if (!duplicateOf) owners.set(ip, n.name);
    out.push({ node: n.name, ip, duplicateOf, ...meshPeerViews(n, ip, global) });
  }
  return out;
}

/** The two mesh peer views of a node, kept while the node and the global AS and port are unchanged. */
function meshPeerViews(n: NodeInfo, ip: string, global: GlobalSettings): { active: PeerView; passive: PeerView } {
  const key = `${ip}|${global.asNumber}|${global.listenPort}`;
  let byKey = meshViews.get(n);
  const known = byKey?.get(key);
  if (known) return known;
  if (!byKey) meshViews.set(n, (byKey = new Map()));
  const port = n.listenPort || global.listenPort;
    const asNumber = n.asNumber || global.asNumber;
    const active: PeerView = {
      kind: 'mesh', origin: `node ${n.name}`, skip: null, name: `Mesh_${ipToSymbol(ip)}`, peerIp: ip, port, asNumber,
      neighbor: `neighbor ${ip}${port ? ` port ${port}` : ''} as ${asNumber};`, options: noOptions, hasPassword: false, sources: noOptions,
    };
  const views = { active, passive: { ...active, options: passiveOption } };
  byKey.set(key, views);
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

function blocksByNode(snapshot: Snapshot): Map<string, Record<Family, BlockView[]>> {
  const keyed = new Map<string, Map<string, BlockView>>();
  for (const b of snapshot.list('BlockAffinity')) {
    const view = blockView(b);
    if (!view) continue;
    let mine = keyed.get(b.spec.node);
    if (!mine) keyed.set(b.spec.node, (mine = new Map()));
    const key = cidrKey(view.cidr);
    if (!mine.has(key)) mine.set(key, view);
  }
  const out = new Map<string, Record<Family, BlockView[]>>();
  for (const [node, mine] of keyed) {
    const sorted = [...mine.keys()].sort().map((k) => mine.get(k)!);
    out.set(node, { ipv4: sorted.filter((b) => !b.cidr.includes(':')), ipv6: sorted.filter((b) => b.cidr.includes(':')) });
  }
  return out;
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
