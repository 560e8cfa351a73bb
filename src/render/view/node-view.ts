import type { Diagnostic } from '../../model/diagnostics.js';
import type { Snapshot } from '../../model/snapshot.js';
import { compareText } from '../../model/sorted.js';
import { hashToIPv4, parseIp, type Family } from '../addresses.js';
import { clusterFacts, type ClusterFacts, type NodeInfo } from '../facts/cluster.js';
import { effectiveAs, nodePeerings, type NodePeerings, type PeerRecord } from '../facts/peerings.js';
import { serviceRoutes, type ServiceRoutes } from '../facts/services.js';
import type { CalicoVersion } from '../profiles.js';
import type { RenderStore } from '../store.js';
import { communityRules } from './communities.js';
import { checkedLoopTable, DEFAULT_LOOP_TABLE, loopPreventionMode, loopPreventionView, type LoopPreventionMode } from './loop-prevention.js';
import { meshView } from './mesh-view.js';
import { neighborLine, protocolName } from './peers.js';
import { kernelPoolRule, poolsOf } from './pools.js';
import { VIEW_VERSION, type BgpView, type BlockView, type FamilyView, type NodeView, type PasswordDefine, type PeerKind, type PeerView } from './view-types.js';
import { windowsView, type WindowsView } from './windows-view.js';

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

/**
 * Computes the view of `nodeName`: every decision of the node's files, as data. Pure apart from
 * the render store, whose derived values it reuses and extends.
 */
export function computeNodeView(snapshot: Snapshot, nodeName: string, options: ViewOptions, store: RenderStore): ViewResult {
  const cluster = clusterFacts(snapshot, options, store);
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
  const ctx: FamilyContext = {
    store, cluster, snapshot, self, diagnostics, routerId: routerId.id,
    peerings: nodePeerings(store, cluster, snapshot, nodeName, { secretNamespace: options.secretNamespace ?? 'kube-system' }, diagnostics),
    services: serviceRoutes(store, snapshot, cluster.global, options.k8sNodeRef ?? nodeName),
    separatePasswords: options.passwords === 'separate-file',
    loopMode: loopPreventionMode(snapshot.get('FelixConfiguration', 'default'), options.loopPrevention),
    loopTable: checkedLoopTable(options.loopPreventionTable ?? DEFAULT_LOOP_TABLE, diagnostics),
    ownServiceRoutesOnly: options.serviceRoutes === 'own',
  };
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
      return (windows ??= windowsView(store, ipv4, routerId.id, effectiveAs(cluster, self)));
    },
    optionalFiles: optionalFiles([ipv4, ipv6]),
  };
  return { view, diagnostics };
}

interface FamilyContext {
  readonly store: RenderStore;
  readonly cluster: ClusterFacts;
  readonly snapshot: Snapshot;
  readonly self: NodeInfo;
  readonly routerId: string;
  readonly peerings: NodePeerings;
  readonly services: ServiceRoutes;
  readonly diagnostics: Diagnostic[];
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

/** The optional files of both families: each exists exactly when its main file includes it. */
function optionalFiles(families: readonly FamilyView[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const f of families) for (const name of [f.files.passwords, f.files.loop]) out[name] = f.includes.includes(name);
  return out;
}

function familyView(ctx: FamilyContext, family: Family): FamilyView {
  const address = (family === 'ipv4' ? ctx.self.ipv4 : ctx.self.ipv6) || null;
  const pools = poolsOf(ctx.snapshot, family);
  const blocks = (ctx.cluster.blocks.get(ctx.self.name)?.[family] ?? []).map(blockView);
  const staticRoutes = ctx.services.staticRoutes[family];
  const passwordDefines: PasswordDefine[] = [];
  const bgp = address ? bgpView(ctx, family, address, passwordDefines) : null;
  const loopPrevention = loopPreventionView(ctx.loopMode, ctx.loopTable, ctx.services.rejects[family]);
  const files = fileNames[family];
  return {
    family,
    files,
    includes: [...(passwordDefines.length > 0 ? [files.passwords] : []), files.aggr, files.ipam, ...(loopPrevention.enabled ? [files.loop] : [])],
    address,
    routerId: ctx.routerId,
    routerIdComment: family === 'ipv6' ? 'a router id is 32 bits, also for MP-BGP over IPv6' : null,
    communityRules: communityRules(ctx.cluster.defaultConfig, ctx.cluster.nodeConfigs.get(ctx.self.name), family, ctx.diagnostics),
    passwordDefines,
    loopPrevention,
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

/** A block with its aggregation statements: the aggregate is exported, nothing more specific inside it. */
function blockView(b: { readonly cidr: string; readonly state: string; readonly aggregate: boolean }): BlockView {
  return { ...b, aggrStatements: b.aggregate ? [`if ( net = ${b.cidr} ) then { accept; }`, `if ( net ~ ${b.cidr} ) then { reject; }`] : [] };
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
  const peer = (kind: PeerKind, key: string, r: PeerRecord) => peerView(kind, key, r, ctx.self, address, localAs, passwordStatement);
  const sorted = (m: ReadonlyMap<string, PeerRecord>) => [...m.entries()].filter(([, r]) => r.family === family).sort(([a], [b]) => compareText(a, b));
  return {
    localAs,
    sourceAddress: address,
    mesh: meshView(ctx.store, ctx.cluster, ctx.self, family, address, ctx.diagnostics),
    globalPeers: sorted(ctx.peerings.global).map(([k, r]) => peer('global', k, r)),
    nodePeers: sorted(ctx.peerings.node).map(([k, r]) => peer('node', k, r)),
  };
}

function peerView(kind: PeerKind, key: string, r: PeerRecord, self: NodeInfo, address: string, localAs: string, passwordStatement: (value: string) => string): PeerView {
  const base = { kind, origin: `${r.family === 'ipv4' ? 'peer_v4' : 'peer_v6'}/${key}`, name: protocolName(kind, r.ip, r.port), peerIp: r.ip, port: r.port, asNumber: r.asNumber, sources: [r.source] };
  if (r.ip === address) return { ...base, skip: 'this node', neighbor: '', options: [], hasPassword: false };
  const options: string[] = [];
  const ownRr = self.rrClusterId;
  if (r.asNumber === localAs && ownRr && r.rrClusterId !== ownRr) options.push('rr client;', `rr cluster id ${ownRr};`);
  if (r.password) options.push(passwordStatement(r.password));
  if (r.asNumber !== localAs && r.keepNextHop) options.push('next hop keep;');
  return { ...base, skip: null, neighbor: neighborLine(r.ip, r.port, r.asNumber), options, hasPassword: r.password !== null };
}
