import { z } from 'zod';
import { ObjectMeta, isIp, zoneIdMessage } from './common.js';

/** The label that ties an EndpointSlice to its Service (same namespace). */
export const serviceNameLabel = 'kubernetes.io/service-name';

const Endpoint = z.object({
  addresses: z.array(z.string()).nullish().transform((a) => a ?? []),
  // Absent `ready` means ready, as Kubernetes and Calico read it.
  conditions: z.preprocess((c) => c ?? {}, z.object({ ready: z.boolean().nullish().transform((r) => r ?? null) })),
  nodeName: z.string().nullish().transform((n) => n ?? null),
});

/** Kubernetes EndpointSlice (discovery.k8s.io/v1): which nodes have ready endpoints of a Service. */
export const EndpointSlice = z
  .object({
    kind: z.literal('EndpointSlice'),
    metadata: ObjectMeta,
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN'], { error: 'must be IPv4, IPv6 or FQDN' }),
    endpoints: z.array(Endpoint).nullish().transform((e) => e ?? []),
  })
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
