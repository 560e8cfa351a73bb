import { serviceNameOf, type EndpointSlice } from '../../model/k8s-endpoint-slice.js';
import type { Service } from '../../model/k8s-service.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { ClusterFacts } from '../facts/cluster.js';
import { localNodes } from '../facts/peerings.js';
import { inAny } from '../facts/services.js';
import type { Affected, Change } from '../impact.js';
import type { RenderStore } from '../store.js';

const everyNode: Affected = { all: true };

/** The Calico node names a Kubernetes node name (an endpoint's `nodeName`) stands for. */
export type EndpointNodes = (nodeName: string) => readonly string[];

/** Whether any service range is configured: without one, no Service gives a route (R43). */
function serviceRanges(facts: ClusterFacts): boolean {
  return facts.global.clusterCidrs.length > 0 || facts.global.externalCidrs.length > 0 || (facts.defaultConfig?.spec.serviceLoadBalancerIPs?.length ?? 0) > 0;
}

const advertisedTypes = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

/**
 * Whether a Service may give routes: an advertised type with a cluster IP, and an address inside
 * a configured range (any LoadBalancer ingress counts while LoadBalancer ranges are set). A
 * superset of services.ts's decision, so an answer of "no routes" is safe.
 */
function mayRoute(svc: Service, facts: ClusterFacts): boolean {
  const spec = svc.spec;
  const clusterIps = spec.clusterIPs.filter((ip) => ip !== '' && ip !== 'None');
  if (!advertisedTypes.has(spec.type ?? 'ClusterIP') || clusterIps.length === 0) return false;
  if (clusterIps.some((ip) => inAny(facts.global.clusterCidrs, ip))) return true;
  if ((spec.externalIPs ?? []).some((ip) => inAny(facts.global.externalCidrs, ip))) return true;
  const lbRanges = facts.defaultConfig?.spec.serviceLoadBalancerIPs?.length ?? 0;
  return lbRanges > 0 && svc.status.loadBalancer.ingress.some((i) => !!i.ip);
}

/** External or LoadBalancer addresses: a Cluster-policy Service may be advertised from every node by them alone. */
function hasOwnAddresses(svc: Service): boolean {
  return (svc.spec.externalIPs ?? []).length > 0 || !!svc.spec.loadBalancerIP || svc.status.loadBalancer.ingress.length > 0;
}

/** The slices of a Service now: from the render store's service index when it is current, else by a scan. */
function slicesOf(snapshot: Snapshot, store: RenderStore, svc: Service): EndpointSlice[] {
  const namespace = svc.metadata.namespace || 'default';
  const index = store.serviceIndex332;
  if (index?.snapshot === snapshot && index.sliceRev === snapshot.kindRevision('EndpointSlice')) {
    const keys = index.slicesOf.get(`${namespace}/${svc.metadata.name}`) ?? [];
    return [...keys].map((k) => snapshot.get('EndpointSlice', k.slice(k.indexOf('/') + 1), namespace)).filter((s): s is EndpointSlice => s !== undefined);
  }
  return snapshot.list('EndpointSlice').filter((s) => (s.metadata.namespace || 'default') === namespace && serviceNameOf(s) === svc.metadata.name);
}

function addEndpointNodes(nodes: Set<string>, slice: EndpointSlice, endpointNodes: EndpointNodes): void {
  // Ready or not: an endpoint that turned unready was a route on its node before.
  for (const e of slice.endpoints) if (e.nodeName) for (const n of endpointNodes(e.nodeName)) nodes.add(n);
}

/**
 * The node views a Service or EndpointSlice change reaches under Calico v3.32 (services.ts): a
 * `Local` Service's routes come from the nodes with an endpoint in its slices, so a change
 * reaches those nodes, before and after; any other Service's routes come from every node (or
 * from none), so a change reaches every node. A Service that cannot give a route, or a slice of
 * no such Service, reaches none. v1 Endpoints are not read by this profile.
 */
export function services332Affected(change: Change, facts: ClusterFacts, snapshot: Snapshot, store: RenderStore, endpointNodes: EndpointNodes): Affected {
  const nodes = new Set<string>();
  if (!serviceRanges(facts)) return { all: false, nodes };
  for (const res of [change.before, change.after]) {
    if (res?.kind === 'Service') {
      if (!mayRoute(res, facts)) continue;
      const slices = slicesOf(snapshot, store, res);
      if (res.spec.externalTrafficPolicy !== 'Local') {
        if (slices.length > 0 || hasOwnAddresses(res)) return everyNode;
        continue; // no endpoint anywhere and only a cluster IP: no node has its route
      }
      for (const slice of slices) addEndpointNodes(nodes, slice, endpointNodes);
    } else if (res?.kind === 'EndpointSlice') {
      const name = serviceNameOf(res);
      const svc = name ? snapshot.get('Service', name, res.metadata.namespace || 'default') : undefined;
      if (!svc || !mayRoute(svc, facts)) continue;
      if (svc.spec.externalTrafficPolicy !== 'Local') return everyNode;
      addEndpointNodes(nodes, res, endpointNodes);
    }
  }
  return { all: false, nodes };
}

/**
 * The node views a workload endpoint-status change reaches under Calico v3.32: those of the nodes
 * the BGPPeer it names (with a localWorkloadSelector) applies to, before and after.
 */
export function workloadStatusAffected(change: Change, facts: ClusterFacts): Affected {
  const nodes = new Set<string>();
  for (const res of [change.before, change.after]) {
    if (res?.kind !== 'WorkloadEndpointStatus' || !res.spec.bgpPeerName) continue;
    for (const spec of facts.peers) {
      if (spec.name !== res.spec.bgpPeerName || spec.remote.kind !== 'local-workload') continue;
      if (spec.local.kind === 'global') return everyNode;
      if (spec.local.kind === 'node') nodes.add(spec.local.node);
      for (const n of localNodes(facts, spec)) nodes.add(n.name);
    }
  }
  return { all: false, nodes };
}

/** Whether a Secret holds the mesh password of the v3.32 profile (BGPConfiguration nodeMeshPassword). */
export function isMeshPasswordSecret(facts: ClusterFacts, name: string): boolean {
  return facts.defaultConfig?.spec.nodeMeshPassword?.secretKeyRef?.name === name;
}
