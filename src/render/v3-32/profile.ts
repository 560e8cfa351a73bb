import { createHash } from 'node:crypto';
import type { Family } from '../addresses.js';
import { effectiveAs } from '../facts/peerings.js';
import { communityRules } from '../view/communities.js';
import { debugLine, familyViewBase, optionalFiles, passwordStatements, withWindows, type NodeContext, type Profile } from '../view/context.js';
import { poolsOf } from '../view/pools.js';
import type { NodeView332, PasswordDefine } from '../view/view-types.js';
import { windowsView } from '../view/windows-view.js';
import { familyView317 } from '../v3-17/profile.js';
import { filterFunctions } from './filters.js';
import { peeringRules332 } from './peering-rules.js';
import { meshPeers, mergedPeers, recordPeers, sortedPeers, sourceLine, type PeerContext } from './peers.js';
import { blocks332, ipamStatements, staticRoutes332 } from './routes.js';
import { serviceRoutes332 } from './services.js';
import { settings332, type Settings332 } from './settings.js';
import type { BgpView332, FamilyView332 } from './view-types.js';

/**
 * Calico v3.32's router id from a node name: the first four bytes of SHA-256(name), with 32 taken
 * off a first byte above 223 so that the id never falls in 224.0.0.0/3.
 */
export function hashToIPv4v332(name: string): string {
  const bytes = [...createHash('sha256').update(name).digest().subarray(0, 4)];
  if (bytes[0]! > 223) bytes[0]! -= 32;
  return bytes.join('.');
}

/** Calico v3.32: one sorted peer list with per-peer filters, route priority, BGPFilters, EndpointSlices. */
export const profile332: Profile = {
  version: '3.32',
  peeringRules: peeringRules332,
  hashRouterId: hashToIPv4v332,
  serviceRoutes: (ctx) => {
    const settings = settings332(ctx.cluster.defaultConfig, ctx.snapshot, ctx.options.secretNamespace ?? 'kube-system', []);
    return serviceRoutes332(ctx.store, ctx.snapshot, { global: ctx.cluster.global, settings }, ctx.self, ctx.options.k8sNodeRef ?? ctx.self.name);
  },
  nodeView: nodeView332,
};

function nodeView332(ctx: NodeContext): NodeView332 {
  const settings = settings332(ctx.cluster.defaultConfig, ctx.snapshot, ctx.options.secretNamespace ?? 'kube-system', ctx.diagnostics);
  const ipv4 = familyView332(ctx, settings, 'ipv4');
  const ipv6 = familyView332(ctx, settings, 'ipv6');
  const view = {
    viewVersion: 1,
    calicoVersion: '3.32',
    nodeName: ctx.self.name,
    routerId: ctx.routerId.id,
    routerIdSource: ctx.routerId.source,
    debugLine: debugLine(ctx.logLevel),
    ipv4,
    ipv6,
    optionalFiles: optionalFiles([ipv4, ipv6]),
  } as const;
  // Calico v3.32's Windows scripts keep v3.17's logic, without pending blocks.
  return withWindows(view, () => windowsView(ctx.store, familyView317({ ...ctx, diagnostics: [] }, 'ipv4', (blocks) => blocks.filter((b) => b.state !== 'pending')), ctx.routerId.id, effectiveAs(ctx.cluster, ctx.self)));
}

function familyView332(ctx: NodeContext, settings: Settings332, family: Family): FamilyView332 {
  const self = ctx.self;
  const address = (family === 'ipv4' ? self.ipv4 : self.ipv6) || null;
  const passwordDefines: PasswordDefine[] = [];
  const bgp = address ? bgpView332(ctx, settings, family, address, passwordDefines) : null;
  const blocks = blocks332(ctx.cluster.blocks.get(self.name)?.[family] ?? [], settings.priority[family]);
  const staticRoutes = ctx.services.staticRoutes[family];
  const listenPort = self.listenPort || ctx.cluster.global.listenPort;
  const listenAddress = settings.bindNodeIp && address ? ` address ${address}` : '';
  return {
    ...familyViewBase(ctx, family, address, passwordDefines, bgp?.peers ?? []),
    communityRules: communityRules(ctx.cluster.defaultConfig, ctx.cluster.nodeConfigs.get(self.name), family, ctx.diagnostics, true),
    listen: listenAddress || listenPort ? `listen bgp${listenAddress}${listenPort ? ` port ${listenPort}` : ''};` : null,
    directInterfaces: `interface ${[...settings.ignoredInterfaces.map((i) => `-"${i}"`), '-"cali*"', '-"kube-ipvs*"', '"*"'].join(', ')};`,
    bgp,
    staticRoutes: staticRoutes332(family, blocks, staticRoutes, ctx.peerings),
    blocks,
    ...ipamStatements({
      family, settings, pools: poolsOf(ctx.store, ctx.snapshot, family), networkV4: self.networkV4, staticRoutes, rejects: ctx.services.rejects[family],
      ownServiceRoutesOnly: ctx.options.serviceRoutes === 'own', rrClusterId: self.rrClusterId,
    }),
  };
}

function bgpView332(ctx: NodeContext, settings: Settings332, family: Family, address: string, defines: PasswordDefine[]): BgpView332 {
  const nodeAs = effectiveAs(ctx.cluster, ctx.self);
  const filters = filterFunctions(ctx.snapshot, family);
  const pc: PeerContext = {
    family, address, sourceStatement: sourceLine(address), nodeAs, ownRr: ctx.self.rrClusterId, rrClientStatements: ['rr client;', `rr cluster id ${ctx.self.rrClusterId};`], settings, filters, diagnostics: ctx.diagnostics,
    password: passwordStatements(ctx.options.passwords === 'separate-file', defines),
    store: ctx.store,
    viewKey: `${family}|${address}|${nodeAs}|${ctx.self.rrClusterId}|${settings.priority[family]}|${ctx.snapshot.kindRevision('BGPFilter')}`,
    filterBlocks: new Map(),
    sharedOptions: new Map(),
  };
  const debug = debugLine(ctx.logLevel);
  return {
    localAs: nodeAs,
    templateStatements: [
      ...(debug ? [debug] : []),
      'description "Connection to BGP peer";',
      `local as ${nodeAs};`,
      'gateway recursive;',
      'add paths on;',
      'graceful restart;',
      'connect delay time 2;',
      'connect retry time 5;',
      'error wait time 5,30;',
    ],
    filterLines: filters.lines,
    peers: mergedPeers(meshPeers(pc, ctx.cluster, ctx.self), sortedPeers(recordPeers(pc, ctx.peerings))),
  };
}
