import { compareText } from '../../model/sorted.js';
import { hashToIPv4, type Family } from '../addresses.js';
import { effectiveAs, peeringRules317, type PeerRecord } from '../facts/peerings.js';
import { serviceRoutes } from '../facts/services.js';
import type { BlockFact } from '../facts/blocks.js';
import { communityRules } from '../view/communities.js';
import { debugLine, familyViewBase, optionalFiles, passwordStatements, withWindows, type NodeContext, type Profile } from '../view/context.js';
import { meshView } from '../view/mesh-view.js';
import { neighborLine, protocolName } from '../view/peers.js';
import { kernelPoolRule, poolsOf } from '../view/pools.js';
import type { BgpView, BlockView, FamilyView, NodeView317, PasswordDefine, PeerKind, PeerView } from '../view/view-types.js';
import { windowsView } from '../view/windows-view.js';
import { notRenderedWarnings317 } from './not-rendered.js';

/** Calico v3.17: the output of confd's v3.17 templates (sections per peer kind, one export filter). */
export const profile317: Profile = {
  version: '3.17',
  peeringRules: peeringRules317,
  hashRouterId: hashToIPv4,
  serviceRoutes: (ctx) => serviceRoutes(ctx.store, ctx.snapshot, ctx.cluster.global, ctx.options.k8sNodeRef ?? ctx.self.name),
  nodeView: nodeView317,
};

function nodeView317(ctx: NodeContext): NodeView317 {
  const self = ctx.self;
  ctx.diagnostics.push(...notRenderedWarnings317(ctx.store, ctx.snapshot));
  const listenPort = self.listenPort ? { port: self.listenPort, scope: 'node' as const } : ctx.cluster.global.listenPort ? { port: ctx.cluster.global.listenPort, scope: 'global' as const } : null;
  const ipv4 = familyView317(ctx, 'ipv4');
  const ipv6 = familyView317(ctx, 'ipv6');
  const view = {
    viewVersion: 1,
    calicoVersion: '3.17',
    nodeName: self.name,
    routerId: ctx.routerId.id,
    routerIdSource: ctx.routerId.source,
    listenPort,
    debugLine: debugLine(ctx.logLevel),
    ipv4,
    ipv6,
    optionalFiles: optionalFiles([ipv4, ipv6]),
  } as const;
  return withWindows(view, () => windowsView(ctx.store, ipv4, ctx.routerId.id, effectiveAs(ctx.cluster, self)));
}

/**
 * The v3.17 view of one family. Also what Calico v3.32's Windows scripts are built from (their
 * template kept v3.17's logic), with the blocks that profile keeps.
 */
export function familyView317(ctx: NodeContext, family: Family, blocksOf: (blocks: readonly BlockFact[]) => readonly BlockFact[] = (b) => b): FamilyView {
  const address = (family === 'ipv4' ? ctx.self.ipv4 : ctx.self.ipv6) || null;
  const pools = poolsOf(ctx.store, ctx.snapshot, family);
  const blocks = blocksOf(ctx.cluster.blocks.get(ctx.self.name)?.[family] ?? []).map(blockView);
  const staticRoutes = ctx.services.staticRoutes[family];
  const passwordDefines: PasswordDefine[] = [];
  const bgp = address ? bgpView(ctx, family, address, passwordDefines) : null;
  const sessions = bgp ? [...bgp.mesh.peers, ...bgp.globalPeers, ...bgp.nodePeers].filter((p) => !p.skip) : [];
  return {
    ...familyViewBase(ctx, family, address, passwordDefines, sessions),
    routerIdComment: family === 'ipv6' ? 'a router id is 32 bits, also for MP-BGP over IPv6' : null,
    communityRules: communityRules(ctx.cluster.defaultConfig, ctx.cluster.nodeConfigs.get(ctx.self.name), family, ctx.diagnostics),
    bgp,
    blocks,
    hasStaticRoutes: blocks.length > 0 || staticRoutes.length > 0,
    staticRoutes,
    exportOwnServiceRoutesOnly: ctx.options.serviceRoutes === 'own' && staticRoutes.length > 0,
    exportPools: pools.map((p) => p.cidr),
    kernelRejects: ctx.services.rejects[family],
    kernelPools: family === 'ipv4' && ctx.self.networkV4 ? pools.map((p) => kernelPoolRule(p, ctx.self.networkV4!)) : [],
  };
}

/** A block with its aggregation statements: the aggregate is exported, nothing more specific inside it. */
function blockView(b: BlockFact): BlockView {
  return { ...b, aggrStatements: b.aggregate ? [`if ( net = ${b.cidr} ) then { accept; }`, `if ( net ~ ${b.cidr} ) then { reject; }`] : [] };
}

function bgpView(ctx: NodeContext, family: Family, address: string, defines: PasswordDefine[]): BgpView {
  const localAs = effectiveAs(ctx.cluster, ctx.self);
  const password = passwordStatements(ctx.options.passwords === 'separate-file', defines);
  const peer = (kind: PeerKind, key: string, r: PeerRecord) => {
    // The view is kept per record for what decides it (the password statement included).
    const made = `${kind}|${key}|${ctx.self.rrClusterId}|${localAs}|${r.ip === address}|${r.password ? password(r.password) : ''}`;
    const known = ctx.store.peerViews.get(r);
    if (known?.made === made) return known.view;
    const view = peerView(kind, key, r, ctx.self.rrClusterId, address, localAs, password);
    ctx.store.peerViews.set(r, { made, view });
    return view;
  };
  const sorted = (m: ReadonlyMap<string, PeerRecord>) => [...m.entries()].filter(([, r]) => r.family === family).sort(([a], [b]) => compareText(a, b));
  return {
    localAs,
    sourceAddress: address,
    mesh: meshView(ctx.store, ctx.cluster, ctx.self, family, address, ctx.diagnostics),
    globalPeers: sorted(ctx.peerings.global).map(([k, r]) => peer('global', k, r)),
    nodePeers: sorted(ctx.peerings.node).map(([k, r]) => peer('node', k, r)),
  };
}

function peerView(kind: PeerKind, key: string, r: PeerRecord, ownRr: string, address: string, localAs: string, password: (value: string) => string): PeerView {
  const base = { kind, origin: `${r.family === 'ipv4' ? 'peer_v4' : 'peer_v6'}/${key}`, name: protocolName(kind, r.ip, r.port), peerIp: r.ip, port: r.port, asNumber: r.asNumber, sources: [r.source], before: [] };
  if (r.ip === address) return { ...base, skip: 'this node', neighbor: '', options: [], hasPassword: false };
  const options: string[] = [];
  if (r.asNumber === localAs && ownRr && r.rrClusterId !== ownRr) options.push('rr client;', `rr cluster id ${ownRr};`);
  if (r.password) options.push(password(r.password));
  if (r.asNumber !== localAs && r.keepNextHop) options.push('next hop keep;');
  return { ...base, skip: null, neighbor: neighborLine(r.ip, r.port, r.asNumber), options, hasPassword: r.password !== null };
}
