import { z } from 'zod';
import { ObjectMeta, isIp, zoneIdMessage } from './common.js';

/** The label that ties an EndpointSlice to its Service (same namespace). */
export const serviceNameLabel = 'kubernetes.io/service-name';

// Fields are read as they come and given their defaults in one pass over the slice (below): a
// transform per field costs more than the rest of the validation of a slice.
const Endpoint = z.object({
  addresses: z.array(z.string()).nullish(),
  conditions: z.object({ ready: z.boolean().nullish() }).nullish(),
  nodeName: z.string().nullish(),
});
type RawEndpoint = z.infer<typeof Endpoint>;

/**
 * An endpoint with its defaults: no addresses is none, absent `ready` means ready (null here), as
 * Kubernetes and Calico read it.
 */
function withDefaults(e: RawEndpoint) {
  return { addresses: e.addresses ?? [], conditions: { ready: e.conditions?.ready ?? null }, nodeName: e.nodeName ?? null };
}

/** Kubernetes EndpointSlice (discovery.k8s.io/v1): which nodes have ready endpoints of a Service. */
export const EndpointSlice = z
  .object({
    kind: z.literal('EndpointSlice'),
    metadata: ObjectMeta,
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN'], { error: 'must be IPv4, IPv6 or FQDN' }),
    endpoints: z.array(Endpoint).nullish(),
  })
  .transform((slice) => ({ ...slice, endpoints: (slice.endpoints ?? []).map(withDefaults) }))
  .superRefine((slice, ctx) => {
    if (slice.addressType === 'FQDN') return;
    const v6 = slice.addressType === 'IPv6';
    slice.endpoints.forEach((e, i) =>
      e.addresses.forEach((a, j) => {
        if (isIp(a) && a.includes(':') === v6) return;
        const message = a.includes('%') ? zoneIdMessage(a) : `not an ${slice.addressType} address (addressType)`;
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'addresses', j], message });
      }),
    );
  });
export type EndpointSlice = z.infer<typeof EndpointSlice>;

/** The name of the Service an EndpointSlice belongs to, or null when it has no such label. */
export function serviceNameOf(slice: EndpointSlice): string | null {
  return slice.metadata.labels[serviceNameLabel] || null;
}
