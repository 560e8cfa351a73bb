import { z } from 'zod';
import { IpAddress, ObjectMeta, isIp, orNull, zoneIdMessage } from './common.js';

const ClusterIp = z.string().superRefine((s, ctx) => {
  if (s !== '' && s !== 'None' && !isIp(s)) ctx.addIssue({ code: 'custom', message: s.includes('%') ? zoneIdMessage(s) : 'not an IP address (or "None")' });
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
 * cluster IPs, and `externalTrafficPolicy: Cluster` for NodePort and LoadBalancer Services.
 */
function withApiDefaults(s: ServiceFields) {
  const clusterIPs = s.clusterIPs?.length ? s.clusterIPs : s.clusterIP ? [s.clusterIP] : [];
  const ips = clusterIPs.filter((ip) => ip !== '' && ip !== 'None');
  const ipFamilies = s.ipFamilies?.length ? s.ipFamilies : ips.map((ip): IpFamily => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  const external = s.type === 'NodePort' || s.type === 'LoadBalancer';
  const externalTrafficPolicy = s.externalTrafficPolicy ?? (external ? 'Cluster' : null);
  return { ...s, clusterIPs, ipFamilies, externalTrafficPolicy };
}

const Ingress = z.object({ ip: orNull(z.union([z.literal(''), IpAddress])) });

/** The fields of a Service without a spec. */
const noFields = ServiceFields.parse({});

/**
 * Kubernetes Service: the fields service advertisement reads (v3.17: clusterIP; v3.32: clusterIPs,
 * LoadBalancer IPs). Only the LoadBalancer ingress IPs of the status are read; an ingress with a
 * hostname only has ip null. The defaults are given in one pass over the Service: a transform per
 * field costs more than the rest of its validation.
 */
export const Service = z
  .object({
    kind: z.literal('Service'),
    metadata: ObjectMeta,
    spec: ServiceFields.nullish(),
    status: z.object({ loadBalancer: z.object({ ingress: z.array(Ingress).nullish() }).nullish() }).nullish(),
  })
  .transform((s) => ({ ...s, spec: withApiDefaults(s.spec ?? noFields), status: { loadBalancer: { ingress: s.status?.loadBalancer?.ingress ?? [] } } }));
export type Service = z.infer<typeof Service>;
