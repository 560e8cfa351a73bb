import type { Diagnostic } from '../../model/diagnostics.js';
import type { Snapshot } from '../../model/snapshot.js';
import { parseIp } from '../addresses.js';
import { clusterFacts, type NodeInfo } from '../facts/cluster.js';
import { nodePeerings } from '../facts/peerings.js';
import { defaultCalicoVersion, type CalicoVersion } from '../profiles.js';
import type { RenderStore } from '../store.js';
import { profile317 } from '../v3-17/profile.js';
import { profile332 } from '../v3-32/profile.js';
import type { NodeContext, Profile, ViewOptions } from './context.js';
import { checkedLoopTable, DEFAULT_LOOP_TABLE, loopPreventionMode } from './loop-prevention.js';
import type { NodeView } from './view-types.js';

export type { ViewOptions } from './context.js';

/** The profiles, by Calico release. */
const profiles: Record<CalicoVersion, Profile> = { '3.17': profile317, '3.32': profile332 };

/** A node view, or null when it cannot be computed, with the problems found. */
export interface ViewResult {
  readonly view: NodeView | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * Computes the view of `nodeName`: every decision of the node's files, as data, in the shape of
 * the Calico release asked for. Pure apart from the render store, whose derived values it reuses
 * and extends (a store serves one release).
 */
export function computeNodeView(snapshot: Snapshot, nodeName: string, options: ViewOptions, store: RenderStore): ViewResult {
  const profile = profiles[options.calicoVersion ?? defaultCalicoVersion];
  store.bindTo(profile.version);
  const cluster = clusterFacts(snapshot, options, store);
  const diagnostics: Diagnostic[] = [...cluster.diagnostics];
  const self = cluster.nodes.get(nodeName);
  if (!self) {
    diagnostics.push({ severity: 'error', object: `Node/${nodeName}`, message: 'no Calico Node (or Kubernetes Node with Calico annotations) of this name; nothing to render' });
    return { view: null, diagnostics };
  }
  const base = {
    store, cluster, snapshot, options, self, diagnostics,
    routerId: chooseRouterId(self, options, profile, diagnostics),
    logLevel: cluster.nodeConfigs.get(nodeName)?.spec.logSeverityScreen?.toLowerCase() ?? cluster.global.logLevel ?? 'info',
    loopMode: loopPreventionMode(snapshot.get('FelixConfiguration', 'default'), options.loopPrevention),
    loopTable: checkedLoopTable(options.loopPreventionTable ?? DEFAULT_LOOP_TABLE, diagnostics),
  };
  const ctx: NodeContext = {
    ...base,
    peerings: nodePeerings(store, cluster, snapshot, nodeName, { secretNamespace: options.secretNamespace ?? 'kube-system' }, profile.peeringRules, diagnostics),
    services: profile.serviceRoutes(base),
  };
  return { view: profile.nodeView(ctx), diagnostics };
}

function chooseRouterId(self: NodeInfo, options: ViewOptions, profile: Profile, diagnostics: Diagnostic[]): NodeContext['routerId'] {
  const env = options.routerId?.trim();
  if (env === 'hash') return { id: profile.hashRouterId(self.name), source: 'hash' };
  if (env) {
    if (parseIp(env)?.family === 'ipv4') return { id: env, source: 'env' };
    diagnostics.push({ severity: 'error', object: 'env CALICO_ROUTER_ID', message: 'must be an IPv4 address or "hash"; using the node address' });
  }
  if (self.ipv4) return { id: self.ipv4, source: 'node' };
  // Calico writes `router id ;` here, which BIRD rejects; a stable id from the name keeps BGP working.
  diagnostics.push({ severity: 'warning', object: `Node/${self.name}`, message: 'no IPv4 address and no CALICO_ROUTER_ID: router id derived from the node name (as CALICO_ROUTER_ID=hash)' });
  return { id: profile.hashRouterId(self.name), source: 'hash' };
}
