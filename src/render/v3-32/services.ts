import { serviceNameOf, type EndpointSlice } from '../../model/k8s-endpoint-slice.js';
import type { Service } from '../../model/k8s-service.js';
import type { Snapshot } from '../../model/snapshot.js';
import { parseIp, type Network } from '../addresses.js';
import type { GlobalSettings } from '../facts/nodes.js';
import { byFamily, hostRoute, inAny, type ServiceRoutes } from '../facts/services.js';
import type { RenderStore } from '../store.js';
import type { Settings332 } from './settings.js';

/** The label that keeps external load balancers (and Calico's service advertisement) off a node. */
export const excludeLabel = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** What one Service contributes: routes every node advertises, and routes only some nodes do. */
interface Contribution {
  readonly everyNode: readonly string[];
  readonly byNode: ReadonlyMap<string, readonly string[]>;
}

/**
 * The service routes of all Services, kept in step with changes to Services and EndpointSlices
 * through the snapshot's change log (one Service's worth of work per change). Slices are grouped
 * by the Service they name (label `kubernetes.io/service-name`, same namespace).
 */
export interface ServiceIndex332 {
  readonly snapshot: Snapshot;
  serviceRev: number;
  sliceRev: number;
  readonly ranges: string;
  readonly serviceOfSlice: Map<string, string>;
  readonly slicesOf: Map<string, Set<string>>;
  readonly contributions: Map<string, Contribution>;
  readonly everyNode: Map<string, readonly string[]>;
  readonly byNode: Map<string, Map<string, readonly string[]>>;
}

/** The ranges that change every Service's routes. */
interface Ranges {
  readonly global: GlobalSettings;
  readonly settings: Settings332;
}

/**
 * Service advertisement as Calico v3.32 does it (R43-R47): the cluster, external and (with
 * aggregation) LoadBalancer ranges from every node, and host routes per advertised Service, read
 * from EndpointSlices. A node labelled `node.kubernetes.io/exclude-from-external-load-balancers:
 * "true"` keeps only the kernel rejects. As in bird-confd's v3.17 profile (quirk Q13 fixed), a
 * cluster IP is advertised only inside a configured cluster range.
 */
export function serviceRoutes332(store: RenderStore, snapshot: Snapshot, ranges: Ranges, node: { readonly name: string; readonly labels: Readonly<Record<string, string>> }, endpointNode: string): ServiceRoutes {
  const { global, settings } = ranges;
  const single = (n: Network) => n.length === (n.family === 'ipv4' ? 32 : 128);
  const globalRanges = [...global.clusterCidrs, ...global.externalCidrs.filter((n) => !single(n)), ...(settings.loadBalancerAggregation ? settings.loadBalancerIps.filter((n) => !single(n)) : [])];
  const rejects = new Set(globalRanges.map((n) => n.cidr));
  const excluded = node.labels[excludeLabel] === 'true';
  const statics = new Set(excluded ? [] : rejects);
  if (!excluded) {
    const index = serviceIndex(store, snapshot, ranges);
    for (const routes of index.everyNode.values()) for (const r of routes) statics.add(r);
    for (const routes of index.byNode.get(endpointNode)?.values() ?? []) for (const r of routes) statics.add(r);
  }
  return { staticRoutes: byFamily(statics), rejects: byFamily(rejects) };
}

/** Beyond this many changed Services and slices, the index is rebuilt. */
const PATCH_LIMIT = 1024;

function rangesKey(r: Ranges): string {
  const cidrs = (nets: readonly Network[]) => nets.map((n) => n.cidr).join(',');
  return `${cidrs(r.global.clusterCidrs)}|${cidrs(r.global.externalCidrs)}|${cidrs(r.settings.loadBalancerIps)}|${r.settings.loadBalancerAggregation}`;
}

function serviceIndex(store: RenderStore, snapshot: Snapshot, ranges: Ranges): ServiceIndex332 {
  const serviceRev = snapshot.kindRevision('Service');
  const sliceRev = snapshot.kindRevision('EndpointSlice');
  const key = rangesKey(ranges);
  const known = store.serviceIndex332?.snapshot === snapshot && store.serviceIndex332.ranges === key ? store.serviceIndex332 : null;
  if (known) {
    if (known.serviceRev === serviceRev && known.sliceRev === sliceRev) return known;
    const services = snapshot.changedSince('Service', known.serviceRev);
    const slices = snapshot.changedSince('EndpointSlice', known.sliceRev);
    if (services && slices && services.length + slices.length <= PATCH_LIMIT) {
      const dirty = new Set(services);
      for (const s of slices) for (const svc of regroup(known, snapshot, s)) dirty.add(svc);
      for (const svc of dirty) setContribution(known, svc, contributionOf(snapshot, known, svc, ranges));
      known.serviceRev = serviceRev;
      known.sliceRev = sliceRev;
      return known;
    }
  }
  const index: ServiceIndex332 = { snapshot, serviceRev, sliceRev, ranges: key, serviceOfSlice: new Map(), slicesOf: new Map(), contributions: new Map(), everyNode: new Map(), byNode: new Map() };
  // A full build walks the lists: each object is at hand, not looked up again by its key, and
  // the snapshot's keys are this index's keys (`namespace/name`, the namespace defaulted).
  const slices = snapshot.list('EndpointSlice');
  const sliceKeys = snapshot.keys('EndpointSlice');
  for (let i = 0; i < slices.length; i++) regroup(index, snapshot, sliceKeys[i]!, slices[i]);
  const services = snapshot.list('Service');
  const serviceKeys = snapshot.keys('Service');
  for (let i = 0; i < services.length; i++) setContribution(index, serviceKeys[i]!, contributionOf(snapshot, index, serviceKeys[i]!, ranges, services[i]));
  store.serviceIndex332 = index;
  return index;
}

/** Moves a slice (found by its key unless given) to the Service it names now; returns the Services whose slices changed. */
function regroup(index: ServiceIndex332, snapshot: Snapshot, sliceKey: string, given?: EndpointSlice): string[] {
  const slash = sliceKey.indexOf('/');
  const slice = given ?? snapshot.get('EndpointSlice', sliceKey.slice(slash + 1), sliceKey.slice(0, slash));
  const name = slice ? serviceNameOf(slice) : null;
  const now = name ? `${sliceKey.slice(0, slash)}/${name}` : null;
  const before = index.serviceOfSlice.get(sliceKey) ?? null;
  if (before) index.slicesOf.get(before)?.delete(sliceKey);
  if (now) {
    index.serviceOfSlice.set(sliceKey, now);
    let set = index.slicesOf.get(now);
    if (!set) index.slicesOf.set(now, (set = new Set()));
    set.add(sliceKey);
  } else index.serviceOfSlice.delete(sliceKey);
  return [before, now].filter((s): s is string => s !== null);
}

function setContribution(index: ServiceIndex332, key: string, c: Contribution | null): void {
  const old = index.contributions.get(key);
  if (old === c) return;
  index.everyNode.delete(key);
  for (const node of old?.byNode.keys() ?? []) {
    const mine = index.byNode.get(node);
    mine?.delete(key);
    if (mine?.size === 0) index.byNode.delete(node);
  }
  if (!c) {
    index.contributions.delete(key);
    return;
  }
  index.contributions.set(key, c);
  if (c.everyNode.length) index.everyNode.set(key, c.everyNode);
  for (const [node, routes] of c.byNode) {
    let mine = index.byNode.get(node);
    if (!mine) index.byNode.set(node, (mine = new Map()));
    mine.set(key, routes);
  }
}

const advertisedTypes = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

/** One Service's (found by its key unless given) routes, by R45's decision: from every node, from the nodes with a ready local endpoint, or none. */
function contributionOf(snapshot: Snapshot, index: ServiceIndex332, key: string, ranges: Ranges, given?: Service): Contribution | null {
  const slash = key.indexOf('/');
  const svc = given ?? snapshot.get('Service', key.slice(slash + 1), key.slice(0, slash));
  if (!svc) return null;
  const spec = svc.spec;
  const clusterIps = spec.clusterIPs.filter((ip) => ip !== '' && ip !== 'None');
  if (!advertisedTypes.has(spec.type ?? 'ClusterIP') || clusterIps.length === 0) return null;
  const { global, settings } = ranges;
  const policy = spec.externalTrafficPolicy;
  const everywhere = policy === 'Cluster' && clusterPolicyAdvertised(svc, global, settings);
  // Decided before the routes are made: with aggregation most Services advertise nothing of their own.
  if (!everywhere && policy !== 'Local' && settings.loadBalancerAggregation) return null;
  const routes = routesOf(svc, clusterIps, ranges);
  if (routes.length === 0) return null;
  if (everywhere) return { everyNode: routes, byNode: new Map() };
  const byNode = new Map<string, readonly string[]>();
  for (const sliceKey of index.slicesOf.get(key) ?? []) {
    const s = sliceKey.indexOf('/');
    const slice = snapshot.get('EndpointSlice', sliceKey.slice(s + 1), sliceKey.slice(0, s));
    if (!slice || !spec.ipFamilies.includes(slice.addressType as 'IPv4' | 'IPv6')) continue;
    for (const e of slice.endpoints) {
      if (e.conditions.ready === false) continue;
      if (policy !== 'Local') return { everyNode: routes, byNode: new Map() };
      if (e.nodeName) byNode.set(e.nodeName, routes);
    }
  }
  return byNode.size ? { everyNode: [], byNode } : null;
}

/** A Cluster-policy Service whose LoadBalancer or external IP is in a single-IP range is advertised from every node. */
function clusterPolicyAdvertised(svc: Service, global: GlobalSettings, settings: Settings332): boolean {
  const singles = (nets: readonly Network[]) => nets.filter((n) => n.length === (n.family === 'ipv4' ? 32 : 128));
  const lbIps = [svc.spec.loadBalancerIP, ...svc.status.loadBalancer.ingress.map((i) => i.ip)].filter((ip): ip is string => !!ip);
  if (svc.spec.type === 'LoadBalancer' && lbIps.some((ip) => inAny(singles(settings.loadBalancerIps), ip))) return true;
  return (svc.spec.externalIPs ?? []).some((ip) => inAny(singles(global.externalCidrs), ip));
}

/** R46: cluster IPs inside a cluster range, external IPs inside an external range, ingress IPs inside a LoadBalancer range. */
function routesOf(svc: Service, clusterIps: readonly string[], ranges: Ranges): string[] {
  const out = new Set<string>();
  const add = (ip: string, nets: readonly Network[]) => {
    const parsed = parseIp(ip);
    if (parsed && inAny(nets, parsed.text)) out.add(hostRoute(parsed.text));
  };
  for (const ip of clusterIps) add(ip, ranges.global.clusterCidrs);
  for (const ip of svc.spec.externalIPs ?? []) add(ip, ranges.global.externalCidrs);
  for (const ingress of svc.status.loadBalancer.ingress) if (ingress.ip) add(ingress.ip, ranges.settings.loadBalancerIps);
  return [...out];
}
