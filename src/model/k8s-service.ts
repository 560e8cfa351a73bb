import { z } from 'zod';
import { IpAddress, ObjectMeta, isIp, none, orNull, plainMeta, plainObject, plainStrings, zoneIdMessage } from './common.js';

/** A cluster IP as a Service gives it: an address, empty, or `None` (headless). */
const isClusterIp = (s: string) => s === '' || s === 'None' || isIp(s);

const ClusterIp = z.string().superRefine((s, ctx) => {
  if (!isClusterIp(s)) ctx.addIssue({ code: 'custom', message: s.includes('%') ? zoneIdMessage(s) : 'not an IP address (or "None")' });
});

/** An IP family as Kubernetes names it in `spec.ipFamilies` and `EndpointSlice.addressType`. */
export const IpFamily = z.enum(['IPv4', 'IPv6'], { error: 'must be IPv4 or IPv6' });
export type IpFamily = z.infer<typeof IpFamily>;

const ServiceFields = z.object({
  type: z.string().nullish(),
  clusterIP: ClusterIp.nullish(),
  clusterIPs: z.array(ClusterIp).nullish(),
  ipFamilies: z.array(IpFamily).nullish(),
  externalTrafficPolicy: z.string().nullish(),
  externalIPs: z.array(IpAddress).nullish(),
  loadBalancerIP: orNull(z.union([z.literal(''), IpAddress])),
});
type ServiceFields = z.infer<typeof ServiceFields>;

/**
 * The defaults the API server writes into a stored Service, applied here so that a manifest
 * reads like what calico-node would read: `clusterIPs` from `clusterIP`, `ipFamilies` from the
 * cluster IPs, and `externalTrafficPolicy: Cluster` for NodePort and LoadBalancer Services. Every
 * field is there (null or empty when not set), in one order, whatever the input held.
 */
function withApiDefaults(s: ServiceFields) {
  const clusterIPs = s.clusterIPs?.length ? s.clusterIPs : s.clusterIP ? [s.clusterIP] : [];
  const ips = clusterIPs.filter((ip) => ip !== '' && ip !== 'None');
  const ipFamilies = s.ipFamilies?.length ? s.ipFamilies : ips.map((ip): IpFamily => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  const external = s.type === 'NodePort' || s.type === 'LoadBalancer';
  const externalTrafficPolicy = s.externalTrafficPolicy ?? (external ? 'Cluster' : null);
  return { type: s.type ?? null, clusterIP: s.clusterIP ?? null, clusterIPs, ipFamilies, externalTrafficPolicy, externalIPs: s.externalIPs ?? none, loadBalancerIP: s.loadBalancerIP };
}

const Ingress = z.object({ ip: orNull(z.union([z.literal(''), IpAddress])) });

/** The fields of a Service without a spec. */
const noFields = ServiceFields.parse({});

const ServiceShape = z.object({
  kind: z.literal('Service'),
  metadata: ObjectMeta,
  spec: ServiceFields.nullish(),
  status: z.object({ loadBalancer: z.object({ ingress: z.array(Ingress).nullish() }).nullish() }).nullish(),
});

/** The status of a Service without LoadBalancer ingress IPs (most of them), shared and frozen. */
const noIngress: { loadBalancer: { ingress: { ip: string | null }[] } } = Object.freeze({ loadBalancer: Object.freeze({ ingress: none }) });

/** A Service with its defaults (both readers end here). */
function serviceDefaults(s: z.output<typeof ServiceShape>) {
  const ingress = s.status?.loadBalancer?.ingress;
  return { kind: s.kind, metadata: s.metadata, spec: withApiDefaults(s.spec ?? noFields), status: ingress?.length ? { loadBalancer: { ingress } } : noIngress };
}

/**
 * Kubernetes Service: the fields service advertisement reads (v3.17: clusterIP; v3.32: clusterIPs,
 * LoadBalancer IPs). Only the LoadBalancer ingress IPs of the status are read; an ingress with a
 * hostname only has ip null. The defaults are given in one pass over the Service: a transform per
 * field costs more than the rest of its validation.
 */
export const Service = ServiceShape.transform(serviceDefaults);
export type Service = z.infer<typeof Service>;

const isFamily = (s: string) => s === 'IPv4' || s === 'IPv6';

/** A value of a nullish field (null when absent) if `ok`, else undefined. */
function field<T>(v: unknown, ok: (v: unknown) => v is T): T | null | undefined {
  return v === undefined || v === null ? null : ok(v) ? v : undefined;
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isClusterIpText = (v: unknown): v is string => typeof v === 'string' && isClusterIp(v);
const isLoadBalancerIp = (v: unknown): v is string => typeof v === 'string' && (v === '' || isIp(v));

/** A Service's spec fields as `ServiceFields` reads them (before the defaults), or undefined. */
function plainServiceFields(v: unknown): ServiceFields | undefined {
  const spec = plainObject(v);
  if (!spec) return undefined;
  const type = field(spec.type, isText);
  const clusterIP = field(spec.clusterIP, isClusterIpText);
  const clusterIPs = spec.clusterIPs == null ? null : plainStrings(spec.clusterIPs, isClusterIp);
  const ipFamilies = spec.ipFamilies == null ? null : (plainStrings(spec.ipFamilies, isFamily) as IpFamily[] | undefined);
  const externalTrafficPolicy = field(spec.externalTrafficPolicy, isText);
  const externalIPs = spec.externalIPs == null ? null : plainStrings(spec.externalIPs, isIp);
  const loadBalancerIP = field(spec.loadBalancerIP, isLoadBalancerIp);
  if (type === undefined || clusterIP === undefined || clusterIPs === undefined || ipFamilies === undefined || externalTrafficPolicy === undefined || externalIPs === undefined || loadBalancerIP === undefined) return undefined;
  return { type, clusterIP, clusterIPs, ipFamilies, externalTrafficPolicy, externalIPs, loadBalancerIP };
}

/** The LoadBalancer ingress IPs of a status, or undefined. */
function plainIngress(v: unknown): { ip: string | null }[] | undefined {
  const status = plainObject(v);
  if (!status) return undefined;
  if (status.loadBalancer == null) return [];
  const lb = plainObject(status.loadBalancer);
  if (!lb || !(lb.ingress == null || Array.isArray(lb.ingress))) return undefined;
  const ingress = (lb.ingress ?? []) as unknown[];
  const out: { ip: string | null }[] = [];
  for (const item of ingress) {
    const entry = plainObject(item);
    const ip = entry?.ip ?? null;
    if (!entry || (ip !== null && (typeof ip !== 'string' || (ip !== '' && !isIp(ip))))) return undefined;
    out.push({ ip });
  }
  return out;
}

/** A Service in its usual form read as `Service` reads it, or undefined (see common.ts). */
export function plainService(obj: Record<string, unknown>): Service | undefined {
  const metadata = obj.kind === 'Service' ? plainMeta(obj.metadata) : undefined;
  if (!metadata) return undefined;
  const spec = obj.spec == null ? noFields : plainServiceFields(obj.spec);
  const ingress = obj.status == null ? [] : plainIngress(obj.status);
  if (!spec || !ingress) return undefined;
  return serviceDefaults({ kind: 'Service', metadata, spec, status: { loadBalancer: { ingress } } });
}
