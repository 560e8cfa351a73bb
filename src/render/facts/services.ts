import { idOf } from '../../model/resources.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { Endpoints } from '../../model/k8s-endpoints.js';
import type { Service } from '../../model/k8s-service.js';
import { compareText } from '../../model/sorted.js';
import { cidrKey, networkContains, parseIp, type Family, type Network } from '../addresses.js';
import type { RenderStore } from '../store.js';
import type { GlobalSettings } from './nodes.js';

/** The service routes of one node: blackholed and exported (`static`), and kept out of the kernel (`reject`). */
export interface ServiceRoutes {
  readonly staticRoutes: Record<Family, string[]>;
  readonly rejects: Record<Family, string[]>;
}

const advertisedTypes = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

/**
 * Service advertisement as Calico does it: the configured cluster and external CIDRs from every
 * node, and a host route for each `Local` service with a ready endpoint of the same family on
 * this node. Unlike Calico, a cluster IP is only advertised when it lies in a configured cluster
 * CIDR, so that it is always covered by a kernel reject.
 */
export function serviceRoutes(store: RenderStore, snapshot: Snapshot, global: GlobalSettings, endpointNode: string): ServiceRoutes {
  const statics = new Set<string>();
  const rejects = new Set<string>();
  for (const net of [...global.clusterCidrs, ...global.externalCidrs]) {
    statics.add(net.cidr);
    rejects.add(net.cidr);
  }
  if (global.clusterCidrs.length > 0 || global.externalCidrs.length > 0) {
    for (const route of localServiceRoutes(store, snapshot, global, endpointNode)) statics.add(route);
  }
  return { staticRoutes: byFamily(statics), rejects: byFamily(rejects) };
}

function localServiceRoutes(store: RenderStore, snapshot: Snapshot, global: GlobalSettings, endpointNode: string): string[] {
  const mine = serviceIndex(store, snapshot, global).byNode.get(endpointNode);
  return mine ? [...mine.values()].flat() : [];
}

/**
 * Host routes per endpoint node, and what each Service contributes. Built once per snapshot, then
 * kept in step with changes to Services and Endpoints through the snapshot's change log, so moving
 * one endpoint costs one Service's worth of work, not a pass over every Service. It belongs to the
 * render store, which is the caller's explicit incremental state; it is patched in place there.
 */
export interface ServiceIndex {
  readonly snapshot: Snapshot;
  serviceRev: number;
  endpointsRev: number;
  readonly ranges: string;
  /** Per Service key (`namespace/name`): its routes per node. */
  readonly contributions: Map<string, ReadonlyMap<string, string[]>>;
  /** Per node: the routes of each Service with an endpoint there. */
  readonly byNode: Map<string, Map<string, string[]>>;
}

/** One Service's routes per node, kept while the Service, its Endpoints and the ranges are the same objects. */
export interface ServiceContribution {
  readonly eps: Endpoints | undefined;
  readonly global: GlobalSettings;
  readonly byNode: Map<string, string[]>;
}
/** Beyond this many changed Services and Endpoints, the index is rebuilt. */
const PATCH_LIMIT = 1024;

function serviceIndex(store: RenderStore, snapshot: Snapshot, global: GlobalSettings): ServiceIndex {
  const serviceRev = snapshot.kindRevision('Service');
  const endpointsRev = snapshot.kindRevision('Endpoints');
  const ranges = `${global.clusterCidrs.map((n) => n.cidr)}|${global.externalCidrs.map((n) => n.cidr)}`;
  const known = store.serviceIndex?.snapshot === snapshot ? store.serviceIndex : null;
  if (known && known.ranges === ranges) {
    if (known.serviceRev === serviceRev && known.endpointsRev === endpointsRev) return known;
    const services = snapshot.changedSince('Service', known.serviceRev);
    const endpoints = snapshot.changedSince('Endpoints', known.endpointsRev);
    if (services && endpoints && services.length + endpoints.length <= PATCH_LIMIT) {
      for (const key of new Set([...services, ...endpoints])) setContribution(known, key, contributionOf(store, snapshot, key, global));
      known.serviceRev = serviceRev;
      known.endpointsRev = endpointsRev;
      return known;
    }
  }
  const index: ServiceIndex = { snapshot, serviceRev, endpointsRev, ranges, contributions: new Map(), byNode: new Map() };
  for (const svc of snapshot.list('Service')) {
    const id = idOf(svc);
    const key = `${id.namespace}/${id.name}`;
    setContribution(index, key, contributionOf(store, snapshot, key, global));
  }
  store.serviceIndex = index;
  return index;
}

/** The routes per node of the Service with this key (none when it or its Endpoints are gone). */
function contributionOf(store: RenderStore, snapshot: Snapshot, key: string, global: GlobalSettings): ReadonlyMap<string, string[]> {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const svc = snapshot.get('Service', name, namespace);
  if (!svc) return new Map();
  const eps = snapshot.get('Endpoints', name, namespace);
  let c = store.serviceContributions.get(svc);
  if (!c || c.eps !== eps || c.global.clusterCidrs !== global.clusterCidrs || c.global.externalCidrs !== global.externalCidrs) {
    c = { eps, global, byNode: serviceContribution(svc, eps, global) };
    store.serviceContributions.set(svc, c);
  }
  return c.byNode;
}

function setContribution(index: ServiceIndex, key: string, byNode: ReadonlyMap<string, string[]>): void {
  const old = index.contributions.get(key);
  if (old === byNode) return;
  for (const node of old?.keys() ?? []) {
    const mine = index.byNode.get(node);
    mine?.delete(key);
    if (mine?.size === 0) index.byNode.delete(node);
  }
  if (byNode.size === 0) {
    index.contributions.delete(key);
    return;
  }
  index.contributions.set(key, byNode);
  for (const [node, routes] of byNode) {
    let mine = index.byNode.get(node);
    if (!mine) index.byNode.set(node, (mine = new Map()));
    mine.set(key, routes);
  }
}

/** The host routes one Service contributes, per node with a ready endpoint of the cluster IP's family. */
function serviceContribution(svc: Service, eps: Endpoints | undefined, global: GlobalSettings): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const spec = svc.spec;
  // Most Services are not Local: decided before any address is parsed.
  if (!eps || spec.externalTrafficPolicy !== 'Local' || !advertisedTypes.has(spec.type ?? 'ClusterIP') || !spec.clusterIP) return out;
  const clusterIp = parseIp(spec.clusterIP);
  if (!clusterIp) return out;
  const routes: string[] = [];
  if (inAny(global.clusterCidrs, clusterIp.text)) routes.push(hostRoute(clusterIp.text));
  for (const ext of spec.externalIPs ?? []) if (inAny(global.externalCidrs, ext)) routes.push(hostRoute(parseIp(ext)!.text));
  if (routes.length === 0) return out;
  for (const subset of eps.subsets) {
    for (const a of subset.addresses ?? []) {
      if (a.nodeName && !out.has(a.nodeName) && parseIp(a.ip)?.family === clusterIp.family) out.set(a.nodeName, routes);
    }
  }
  return out;
}

/** Whether an address lies in any of the networks. */
export function inAny(nets: readonly Network[], ipText: string): boolean {
  const ip = parseIp(ipText);
  return ip !== null && nets.some((n) => networkContains(n, ip));
}

/** The host route of an address: `/32` or `/128`. */
export function hostRoute(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/** Splits CIDRs by family, each sorted by Calico's key order. */
export function byFamily(cidrs: Iterable<string>): Record<Family, string[]> {
  const out: Record<Family, string[]> = { ipv4: [], ipv6: [] };
  for (const c of cidrs) out[c.includes(':') ? 'ipv6' : 'ipv4'].push(c);
  const order = (a: string, b: string) => compareText(cidrKey(a), cidrKey(b));
  out.ipv4.sort(order);
  out.ipv6.sort(order);
  return out;
}
