import type { Snapshot } from '../model/snapshot.js';
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

function localServiceRoutes(snapshot: Snapshot, global: GlobalSettings, endpointNode: string): string[] {
  const routes: string[] = [];
  for (const svc of snapshot.list('Service')) {
    const spec = svc.spec;
    const clusterIp = spec.clusterIP ? parseIp(spec.clusterIP) : null;
    if (!advertisedTypes.has(spec.type ?? 'ClusterIP') || !clusterIp || spec.externalTrafficPolicy !== 'Local') continue;
    const eps = snapshot.get('Endpoints', svc.metadata.name, svc.metadata.namespace ?? 'default');
    const local = eps?.subsets.some((s) => (s.addresses ?? []).some((a) => a.nodeName === endpointNode && parseIp(a.ip)?.family === clusterIp.family));
    if (!local) continue;
    if (inAny(global.clusterCidrs, clusterIp.text)) routes.push(hostRoute(clusterIp.text));
    for (const ext of spec.externalIPs ?? []) if (inAny(global.externalCidrs, ext)) routes.push(hostRoute(parseIp(ext)!.text));
  }
  return routes;
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
