import type { Snapshot } from '../model/snapshot.js';
import type { Endpoints } from '../model/k8s-endpoints.js';
import type { Service } from '../model/k8s-service.js';
import { cidrKey, networkContains, parseIp, type Family, type Network } from './addresses.js';
import type { GlobalSettings } from './cluster.js';

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
export function serviceRoutes(snapshot: Snapshot, global: GlobalSettings, endpointNode: string): ServiceRoutes {
  const statics = new Set<string>();
  const rejects = new Set<string>();
  for (const net of [...global.clusterCidrs, ...global.externalCidrs]) {
    statics.add(net.cidr);
    rejects.add(net.cidr);
  }
  if (global.clusterCidrs.length > 0 || global.externalCidrs.length > 0) {
    for (const route of localServiceRoutes(snapshot, global, endpointNode)) statics.add(route);
  }
  return { staticRoutes: byFamily(statics), rejects: byFamily(rejects) };
}

function localServiceRoutes(snapshot: Snapshot, global: GlobalSettings, endpointNode: string): readonly string[] {
  return serviceIndex(snapshot, global).get(endpointNode) ?? [];
}

/** Host routes per endpoint node; rebuilt only when Services, Endpoints or the service ranges change. */
const indexMemo = new WeakMap<Snapshot, { key: string; index: Map<string, string[]> }>();
/** One Service's routes per node, kept while the Service, its Endpoints and the ranges are the same objects. */
const contributionMemo = new WeakMap<Service, { eps: Endpoints | undefined; global: GlobalSettings; byNode: Map<string, string[]> }>();

function serviceIndex(snapshot: Snapshot, global: GlobalSettings): Map<string, string[]> {
  const key = `${snapshot.kindRevision('Service')}|${snapshot.kindRevision('Endpoints')}|${global.clusterCidrs.map((n) => n.cidr)}|${global.externalCidrs.map((n) => n.cidr)}`;
  const known = indexMemo.get(snapshot);
  if (known?.key === key) return known.index;
  const index = new Map<string, string[]>();
  for (const svc of snapshot.list('Service')) {
    const eps = snapshot.get('Endpoints', svc.metadata.name, svc.metadata.namespace ?? 'default');
    let c = contributionMemo.get(svc);
    if (!c || c.eps !== eps || c.global.clusterCidrs !== global.clusterCidrs || c.global.externalCidrs !== global.externalCidrs) {
      c = { eps, global, byNode: serviceContribution(svc, eps, global) };
      contributionMemo.set(svc, c);
    }
    for (const [node, routes] of c.byNode) {
      const mine = index.get(node);
      if (mine) mine.push(...routes);
      else index.set(node, [...routes]);
    }
  }
  indexMemo.set(snapshot, { key, index });
  return index;
}

/** The host routes one Service contributes, per node with a ready endpoint of the cluster IP's family. */
function serviceContribution(svc: Service, eps: Endpoints | undefined, global: GlobalSettings): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const spec = svc.spec;
  const clusterIp = spec.clusterIP ? parseIp(spec.clusterIP) : null;
  if (!eps || !advertisedTypes.has(spec.type ?? 'ClusterIP') || !clusterIp || spec.externalTrafficPolicy !== 'Local') return out;
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

function inAny(nets: readonly Network[], ipText: string): boolean {
  const ip = parseIp(ipText);
  return ip !== null && nets.some((n) => networkContains(n, ip));
}

function hostRoute(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/** Splits CIDRs by family, each sorted by Calico's key order. */
export function byFamily(cidrs: Iterable<string>): Record<Family, string[]> {
  const out: Record<Family, string[]> = { ipv4: [], ipv6: [] };
  for (const c of cidrs) out[c.includes(':') ? 'ipv6' : 'ipv4'].push(c);
  const order = (a: string, b: string) => (cidrKey(a) < cidrKey(b) ? -1 : cidrKey(a) > cidrKey(b) ? 1 : 0);
  out.ipv4.sort(order);
  out.ipv6.sort(order);
  return out;
}
