import type { Diagnostic } from '../model/diagnostics.js';
import type { CalicoVersion } from './profiles.js';
import type { Snapshot } from '../model/snapshot.js';
import { cidrKey, hashToIPv4, ipToSymbol, parseIp, parseNetwork, type Family } from './addresses.js';
import { clusterFacts, type ClusterFacts, type MeshEntry, type NodeInfo } from './cluster.js';
import { communityRules } from './communities.js';
import { effectiveAs, effectivePort, nodePeerings, type PeerRecord } from './peerings.js';
import { serviceRoutes, type ServiceRoutes } from './services.js';
import { windowsView, type WindowsView } from './windows-view.js';
import { DEFAULT_LOOP_TABLE, loopPreventionMode, loopPreventionView, loopTableProblem, type LoopPreventionMode } from './loop-prevention.js';
import { VIEW_VERSION, type BgpView, type PasswordDefine, type BlockView, type FamilyView, type KernelPoolRule, type MeshView, type NodeView, type PeerKind, type PeerView } from './view-types.js';

/** What Calico takes from the environment, passed in explicitly. */
export interface ViewOptions {
  /** The Calico release whose output is reproduced (default: the newest supported). */
  readonly calicoVersion?: CalicoVersion;
  /** CALICO_ROUTER_ID: an IPv4 address, or `hash`. */
  readonly routerId?: string;
  /** NAMESPACE: where password Secrets live (default kube-system). */
  readonly secretNamespace?: string;
  /** CALICO_K8S_NODE_REF: the node name Endpoints use (default: the node name). */
  readonly k8sNodeRef?: string;
  /** CALICO_ADVERTISE_CLUSTER_IPS. */
  readonly advertiseClusterIps?: string;
  /**
   * `inline` (Calico's way): `password "…";` in bird.cfg. `separate-file`: each password once as a
   * string constant in bird_passwords.cfg / bird6_passwords.cfg, so the main files hold no secret.
   */
  readonly passwords?: 'inline' | 'separate-file';
  /** Overrides FelixConfiguration `default` spec.serviceLoopPrevention. */
  readonly loopPrevention?: LoopPreventionMode;
  /** The kernel table for loop prevention blackholes (default 250). */
  readonly loopPreventionTable?: number;
  /**
   * Which routes inside the advertised service ranges go to BGP peers. `all` (Calico's way): any,
   * so a node passes on another node's `Local` service /32 (with itself as next hop, on eBGP).
   * `own`: only this node's own static routes; routes learned over BGP stay in.
   */
  readonly serviceRoutes?: 'all' | 'own';
}

/** A node view, or null when it cannot be computed, with the problems found. */
export interface ViewResult {
  readonly view: NodeView | null;
  readonly diagnostics: Diagnostic[];
}

/** Computes the view of `nodeName`: every decision of the six BIRD files, as data. Pure. */
export function computeNodeView(snapshot: Snapshot, nodeName: string, options: ViewOptions = {}, facts?: ClusterFacts): ViewResult {
  const cluster = facts ?? clusterFacts(snapshot, options);
  const diagnostics: Diagnostic[] = [...cluster.diagnostics];
  const self = cluster.nodes.get(nodeName);
  if (!self) {
    diagnostics.push({ severity: 'error', object: `Node/${nodeName}`, message: 'no Calico Node (or Kubernetes Node with Calico annotations) of this name; nothing to render' });
    return { view: null, diagnostics };
  }
  const routerId = chooseRouterId(self, options, diagnostics);
  const nodeCfg = cluster.nodeConfigs.get(nodeName);
  const logLevel = nodeCfg?.spec.logSeverityScreen?.toLowerCase() ?? cluster.global.logLevel ?? 'info';
  const listenPort = self.listenPort ? { port: self.listenPort, scope: 'node' as const } : cluster.global.listenPort ? { port: cluster.global.listenPort, scope: 'global' as const } : null;
  const peerings = nodePeerings(cluster, snapshot, nodeName, { secretNamespace: options.secretNamespace ?? 'kube-system' }, diagnostics);
  const services = serviceRoutes(snapshot, cluster.global, options.k8sNodeRef ?? nodeName);
  const loopMode = loopPreventionMode(snapshot.get('FelixConfiguration', 'default'), options.loopPrevention);
  const loopTable = loopTableProblem(options.loopPreventionTable ?? DEFAULT_LOOP_TABLE, diagnostics);
  const ctx: FamilyContext = { cluster, snapshot, self, routerId: routerId.id, peerings, services, diagnostics, nodeCfgName: nodeName, separatePasswords: options.passwords === 'separate-file', loopMode, loopTable, ownServiceRoutesOnly: options.serviceRoutes === 'own' };
  const ipv4 = familyView(ctx, 'ipv4');
  const ipv6 = familyView(ctx, 'ipv6');
  // The Windows part is built when first read (Windows targets, `view`): a Linux node of a large
  // mesh would otherwise pay for thousands of PowerShell literals on every render.
  let windows: WindowsView | undefined;
  const view: NodeView = {
    viewVersion: VIEW_VERSION,
    nodeName,
    routerId: routerId.id,
    routerIdSource: routerId.source,
    listenPort,
    debugLine: logLevel === 'debug' ? 'debug all;' : logLevel === 'info' ? 'debug { states };' : null,
    ipv4,
    ipv6,
    get windows() {
      return (windows ??= windowsView(ipv4, routerId.id, effectiveAs(cluster, self)));
    },
    optionalFiles: {
      [ipv4.files.passwords]: ipv4.passwordDefines.length > 0,
      [ipv6.files.passwords]: ipv6.passwordDefines.length > 0,
      [ipv4.files.loop]: ipv4.loopPrevention.enabled,
      [ipv6.files.loop]: ipv6.loopPrevention.enabled,
    },
  };
  return { view, diagnostics };
}

interface FamilyContext {
  readonly cluster: ClusterFacts;
  readonly snapshot: Snapshot;
  readonly self: NodeInfo;
  readonly routerId: string;
  readonly peerings: ReturnType<typeof nodePeerings>;
  readonly services: ServiceRoutes;
  readonly diagnostics: Diagnostic[];
  readonly nodeCfgName: string;
  readonly separatePasswords: boolean;
  readonly loopMode: LoopPreventionMode;
  readonly loopTable: number;
  readonly ownServiceRoutesOnly: boolean;
}

function chooseRouterId(self: NodeInfo, options: ViewOptions, diagnostics: Diagnostic[]): { id: string; source: NodeView['routerIdSource'] } {
  const env = options.routerId?.trim();
  if (env === 'hash') return { id: hashToIPv4(self.name), source: 'hash' };
  if (env) {
    if (parseIp(env)?.family === 'ipv4') return { id: env, source: 'env' };
    diagnostics.push({ severity: 'error', object: 'env CALICO_ROUTER_ID', message: 'must be an IPv4 address or "hash"; using the node address' });
  }
  if (self.ipv4) return { id: self.ipv4, source: 'node' };
  // Calico writes `router id ;` here, which BIRD rejects; a stable id from the name keeps BGP working.
  diagnostics.push({ severity: 'warning', object: `Node/${self.name}`, message: 'no IPv4 address and no CALICO_ROUTER_ID: router id derived from the node name (as CALICO_ROUTER_ID=hash)' });
  return { id: hashToIPv4(self.name), source: 'hash' };
}

const fileNames: Record<Family, FamilyView['files']> = {
  ipv4: { main: 'bird.cfg', aggr: 'bird_aggr.cfg', ipam: 'bird_ipam.cfg', passwords: 'bird_passwords.cfg', loop: 'bird_loop.cfg' },
  ipv6: { main: 'bird6.cfg', aggr: 'bird6_aggr.cfg', ipam: 'bird6_ipam.cfg', passwords: 'bird6_passwords.cfg', loop: 'bird6_loop.cfg' },
};

function familyView(ctx: FamilyContext, family: Family): FamilyView {
  const address = (family === 'ipv4' ? ctx.self.ipv4 : ctx.self.ipv6) || null;
  const pools = poolsOf(ctx.snapshot, family);
  const blocks = ctx.cluster.blocks.get(ctx.self.name)?.[family] ?? [];
  const staticRoutes = ctx.services.staticRoutes[family];
  const passwordDefines: PasswordDefine[] = [];
  const bgp = address ? bgpView(ctx, family, address, passwordDefines) : null;
  return {
    family,
    files: fileNames[family],
    address,
    routerId: ctx.routerId,
    routerIdComment: family === 'ipv6' ? 'a router id is 32 bits, also for MP-BGP over IPv6' : null,
    communityRules: communityRules(ctx.cluster.defaultConfig, ctx.cluster.nodeConfigs.get(ctx.nodeCfgName), family, ctx.diagnostics),
    passwordDefines,
    loopPrevention: loopPreventionView(ctx.loopMode, ctx.loopTable, ctx.services.rejects[family]),
    bgp,
    blocks,
    hasStaticRoutes: blocks.length > 0 || staticRoutes.length > 0,
    staticRoutes,
    exportOwnServiceRoutesOnly: ctx.ownServiceRoutesOnly && staticRoutes.length > 0,
    exportPools: pools.map((p) => p.cidr),
    kernelRejects: ctx.services.rejects[family],
    kernelPools: family === 'ipv4' && ctx.self.networkV4 ? pools.map((p) => kernelPoolRule(p, ctx.self.networkV4!)) : [],
  };
}

function bgpView(ctx: FamilyContext, family: Family, address: string, defines: PasswordDefine[]): BgpView {
  const localAs = effectiveAs(ctx.cluster, ctx.self);
  const passwordStatement = (value: string): string => {
    if (!ctx.separatePasswords) return `password "${value}";`;
    let def = defines.find((d) => d.value === value);
    if (!def) {
      def = { symbol: `bird_confd_password_${defines.length + 1}`, value };
      defines.push(def);
    }
    return `password ${def.symbol};`;
  };
  const peer = (kind: PeerKind, key: string, r: PeerRecord) => peerView(kind, key, r, ctx, address, localAs, passwordStatement);
  const sorted = (m: ReadonlyMap<string, PeerRecord>) => [...m.entries()].filter(([, r]) => r.family === family).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    localAs,
    sourceAddress: address,
    mesh: meshView(ctx, family, address),
    globalPeers: sorted(ctx.peerings.global).map(([k, r]) => peer('global', k, r)),
    nodePeers: sorted(ctx.peerings.node).map(([k, r]) => peer('node', k, r)),
  };
}

/**
 * A node's mesh view, kept per mesh (the cluster's entries array, replaced whenever a node
 * changes) for the last few nodes rendered: after a change that leaves the mesh alone (a
 * BGPPeer, a Service), the same view and the same peer list come back without a pass over N nodes.
 */
const meshMemo = new WeakMap<readonly MeshEntry[], Map<NodeInfo, { view: MeshView; diagnostics: readonly Diagnostic[] }>>();
/** The daemon renders one node; a preview renders each node once. A few are enough. */
const MESH_MEMO_NODES = 4;

function meshView(ctx: FamilyContext, family: Family, address: string): MeshView {
  const rrClusterId = ctx.self.rrClusterId;
  // Calico quirk kept for parity: a route reflector drops its IPv6 mesh but keeps the IPv4 one.
  if (family === 'ipv6' && rrClusterId) return { state: 'route-reflector', disabled: false, routeReflector: true, rrClusterId, peers: [] };
  if (!ctx.cluster.global.meshEnabled) return { state: 'disabled', disabled: true, routeReflector: false, rrClusterId, peers: [] };
  const entries = ctx.cluster.mesh[family];
  // A node that changes is a new NodeInfo in a new mesh: the node object and the entries say it all.
  let byNode = meshMemo.get(entries);
  const known = byNode?.get(ctx.self);
  if (known) {
    ctx.diagnostics.push(...known.diagnostics);
    return known.view;
  }
  const diagnostics: Diagnostic[] = [];
  const peers: PeerView[] = [];
  for (const e of entries) {
    if (e.ip === address) {
      if (e.node === ctx.self.name) peers.push({ ...e.active, skip: 'this node', neighbor: '', options: [] });
      continue;
    }
    if (e.duplicateOf) {
      // Two nodes with one address would give two protocols of one name, which BIRD rejects.
      diagnostics.push({ severity: 'warning', object: `Node/${e.node}`, message: `has the same ${family} address as Node/${e.duplicateOf}; no mesh session to it` });
      continue;
    }
    // Exactly one side of each pair is passive: the one whose address sorts lower as text (Calico's rule).
    peers.push(e.ip > address ? e.passive : e.active);
  }
  const view: MeshView = { state: 'enabled', disabled: false, routeReflector: false, rrClusterId, peers };
  ctx.diagnostics.push(...diagnostics);
  if (!byNode) meshMemo.set(entries, (byNode = new Map()));
  if (byNode.size >= MESH_MEMO_NODES) byNode.delete(byNode.keys().next().value!);
  byNode.set(ctx.self, { view, diagnostics });
  return view;
}

/**
 * The last peer view made from each peer record, with what it was made for. Records are shared
 * by every node's peerings (see sidesOf), so the next node with the same view of that peer (the
 * other route reflectors of a rack; the daemon's next render) gets the same object back, and the
 * peer text kept for it. Views with a password are not kept (a separate-file password's symbol
 * depends on the node's other peers).
 */
const peerViews = new WeakMap<PeerRecord, { readonly made: string; readonly view: PeerView }>();

function peerView(kind: PeerKind, key: string, r: PeerRecord, ctx: FamilyContext, address: string, localAs: string, passwordStatement: (value: string) => string): PeerView {
  if (r.password) return makePeerView(kind, key, r, ctx, address, localAs, passwordStatement);
  const made = `${kind}|${key}|${ctx.self.rrClusterId}|${localAs}|${r.ip === address}`;
  const known = peerViews.get(r);
  if (known?.made === made) return known.view;
  const view = makePeerView(kind, key, r, ctx, address, localAs, passwordStatement);
  peerViews.set(r, { made, view });
  return view;
}

function makePeerView(kind: PeerKind, key: string, r: PeerRecord, ctx: FamilyContext, address: string, localAs: string, passwordStatement: (value: string) => string): PeerView {
  const name = `${kind === 'global' ? 'Global' : 'Node'}_${ipToSymbol(r.ip)}${r.port ? `_port_${r.port}` : ''}`;
  const base = { kind, origin: `${r.family === 'ipv4' ? 'peer_v4' : 'peer_v6'}/${key}`, name, peerIp: r.ip, port: r.port, asNumber: r.asNumber, sources: [r.source] };
  if (r.ip === address) return { ...base, skip: 'this node', neighbor: '', options: [], hasPassword: false };
  const options: string[] = [];
  const ownRr = ctx.self.rrClusterId;
  if (r.asNumber === localAs && ownRr && r.rrClusterId !== ownRr) options.push('rr client;', `rr cluster id ${ownRr};`);
  if (r.password) options.push(passwordStatement(r.password));
  if (r.asNumber !== localAs && r.keepNextHop) options.push('next hop keep;');
  return { ...base, skip: null, neighbor: neighborLine(r.ip, r.port, r.asNumber), options, hasPassword: r.password !== null };
}

function neighborLine(ip: string, port: number, as: string): string {
  return `neighbor ${ip}${port ? ` port ${port}` : ''} as ${as};`;
}


interface PoolInfo {
  readonly cidr: string;
  readonly ipipMode: string;
  readonly vxlanMode: string;
}

/** IP pools of a family in key order; of two pools with the same CIDR the first by name wins (as Calico). */
function poolsOf(snapshot: Snapshot, family: Family): PoolInfo[] {
  const byKey = new Map<string, PoolInfo>();
  for (const p of snapshot.list('IPPool')) {
    const net = parseNetwork(p.spec.cidr);
    if (!net || net.family !== family || byKey.has(cidrKey(net.cidr))) continue;
    byKey.set(cidrKey(net.cidr), { cidr: net.cidr, ipipMode: p.spec.ipipMode, vxlanMode: p.spec.vxlanMode });
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

function kernelPoolRule(pool: PoolInfo, network: string): KernelPoolRule {
  // VXLAN routes are programmed by Felix, not BIRD.
  if (pool.vxlanMode !== 'Never') return { cidr: pool.cidr, statements: ['reject;'] };
  if (pool.ipipMode === 'CrossSubnet') {
    return {
      cidr: pool.cidr,
      statements: [`if defined(bgp_next_hop) && ( bgp_next_hop ~ ${network} ) then`, '  krt_tunnel = "";', 'else', '  krt_tunnel = "tunl0";', 'accept;'],
    };
  }
  return { cidr: pool.cidr, statements: [pool.ipipMode === 'Always' ? 'krt_tunnel = "tunl0";' : 'krt_tunnel = "";', 'accept;'] };
}
