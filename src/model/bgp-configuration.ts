import { z } from 'zod';
import { AsNumber, Cidr, IpOrCidr, MaskedNet, ObjectMeta, Port, RoutePriority, oneOf, orNull } from './common.js';
import { SecretKeyRef } from './bgp-peer.js';
import { Duration } from './duration.js';

/** A named community in BGPConfiguration. */
export const Community = z.object({ name: z.string().min(1), value: z.string() });

/** One prefixAdvertisements entry; the CIDR may be a bare IP, as Calico allows. */
export const PrefixAdvertisement = z.object({
  cidr: IpOrCidr,
  communities: z.array(z.string()).nullish().transform((c) => c ?? []),
});
export type PrefixAdvertisement = z.infer<typeof PrefixAdvertisement>;

/**
 * A serviceClusterIPs / serviceExternalIPs entry. Calico v3.32 allows `{}` (no cidr) and skips
 * it; it reads as `cidr: ''`, which no renderer takes for a network.
 */
const CidrEntry = z.object({ cidr: z.union([z.literal(''), Cidr]).nullish().transform((c) => c ?? '') });
/** A serviceLoadBalancerIPs entry: a masked network or a bare IP, or `{}` (skipped), read as `cidr: ''`. */
const NetEntry = z.object({ cidr: z.union([z.literal(''), MaskedNet]).nullish().transform((c) => c ?? '') });

/**
 * An interface name pattern BIRD matches device routes against (`ignoredInterfaces`): a glob of
 * 1..15 characters from letters, digits, `_ . * -`, and not `*` alone (that would ignore all).
 */
export const InterfacePattern = z
  .string()
  .regex(/^[a-zA-Z0-9_.*-]{1,15}$/, 'must be 1..15 characters from letters, digits, "_", ".", "*" and "-"')
  .refine((s) => s !== '*', 'must not be "*" alone');

/** Whether Calico programs cluster routes, and whether it aggregates LoadBalancer ranges. */
export const EnabledDisabled = oneOf(['Enabled', 'Disabled']);
export type EnabledDisabled = z.infer<typeof EnabledDisabled>;

/** Calico's log severity words (any case, or empty); only debug and info change BIRD's config. */
const LogSeverity = z.string().regex(/^(trace|debug|info|warning|error|fatal)?$/i, 'must be one of Trace, Debug, Info, Warning, Error, Fatal');

/** The fields of a BGPConfiguration spec; v3.32 fields are null when not set. */
const BGPConfigurationFields = z.object({
  asNumber: AsNumber.nullish(),
  nodeToNodeMeshEnabled: z.boolean().nullish(),
  logSeverityScreen: LogSeverity.nullish(),
  listenPort: z.union([z.literal(0), Port]).nullish(),
  serviceClusterIPs: z.array(CidrEntry).nullish(),
  serviceExternalIPs: z.array(CidrEntry).nullish(),
  communities: z.array(Community).nullish(),
  prefixAdvertisements: z.array(PrefixAdvertisement).nullish(),
  bindMode: orNull(oneOf(['None', 'NodeIP'])),
  ignoredInterfaces: orNull(z.array(InterfacePattern)),
  nodeMeshPassword: orNull(z.object({ secretKeyRef: orNull(SecretKeyRef) })),
  // Whole seconds as decimal text, rounded as Calico does: the mesh's `graceful restart time <n>;`.
  nodeMeshMaxRestartTime: orNull(Duration),
  serviceLoadBalancerIPs: orNull(z.array(NetEntry)),
  serviceLoadBalancerAggregation: orNull(EnabledDisabled),
  programClusterRoutes: orNull(EnabledDisabled),
  ipv4NormalRoutePriority: orNull(RoutePriority),
  ipv6NormalRoutePriority: orNull(RoutePriority),
});
type BGPConfigurationFields = z.infer<typeof BGPConfigurationFields>;

/** The defaults Calico applies to the v3.32 fields when they are not set. */
export const bgpConfigurationDefaults = {
  normalRoutePriority: 1024,
  serviceLoadBalancerAggregation: 'Enabled',
  programClusterRoutes: 'Enabled',
  bindMode: 'None',
} as const;

/** Calico's validateBGPConfigurationSpec rules for the v3.32 fields, and the set rule of ignoredInterfaces. */
function configurationRules(s: BGPConfigurationFields, ctx: z.RefinementCtx): void {
  if (s.nodeToNodeMeshEnabled === false) {
    for (const field of ['nodeMeshPassword', 'nodeMeshMaxRestartTime'] as const) {
      if (s[field] !== null) ctx.addIssue({ code: 'custom', path: [field], message: 'must not be set when spec.nodeToNodeMeshEnabled is false' });
    }
  }
  const seen = new Map<string, number>();
  (s.ignoredInterfaces ?? []).forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['ignoredInterfaces', i], message: `duplicate of spec.ignoredInterfaces[${first}] (the list is a set)` });
    else seen.set(name, i);
  });
}

/** Calico BGPConfiguration: `default` (cluster-wide) and `node.<name>` (per node). */
export const BGPConfigurationSpec = z.preprocess((s) => s ?? {}, BGPConfigurationFields.superRefine(configurationRules));
export type BGPConfigurationSpec = z.infer<typeof BGPConfigurationSpec>;

/** Calico BGPConfiguration resource. */
export const BGPConfiguration = z.object({
  kind: z.literal('BGPConfiguration'),
  metadata: ObjectMeta,
  spec: BGPConfigurationSpec,
});
export type BGPConfiguration = z.infer<typeof BGPConfiguration>;
