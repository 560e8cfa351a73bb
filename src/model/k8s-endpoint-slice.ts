import { z } from 'zod';
import { ObjectMeta, ipv4Value, isIp, none, plainMeta, plainObject, plainStrings, zoneIdMessage } from './common.js';

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
  return { addresses: e.addresses ?? none, conditions: conditionsOf(e.conditions?.ready ?? null), nodeName: e.nodeName ?? null };
}

/** The conditions of an endpoint, one shared frozen object per value (there are three). */
const readiness = new Map([true, false, null].map((ready) => [ready, Object.freeze({ ready })]));
const conditionsOf = (ready: boolean | null): { ready: boolean | null } => readiness.get(ready)!;

/** Kubernetes EndpointSlice (discovery.k8s.io/v1): which nodes have ready endpoints of a Service. */
export const EndpointSlice = z
  .object({
    kind: z.literal('EndpointSlice'),
    metadata: ObjectMeta,
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN'], { error: 'must be IPv4, IPv6 or FQDN' }),
    endpoints: z.array(Endpoint).nullish(),
  })
  .transform((slice) => ({ kind: slice.kind, metadata: slice.metadata, addressType: slice.addressType, endpoints: (slice.endpoints ?? []).map(withDefaults) }))
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

/** An endpoint as `Endpoint` and its defaults give it, its addresses checked as the slice's `addressType` asks; or undefined. */
function plainEndpoint(v: unknown, ok: (a: string) => boolean): ReturnType<typeof withDefaults> | undefined {
  const e = plainObject(v);
  if (!e) return undefined;
  const addresses = e.addresses == null ? none : plainStrings(e.addresses, ok);
  const conditions = e.conditions == null ? {} : plainObject(e.conditions);
  const ready = conditions?.ready ?? null;
  const nodeName = e.nodeName ?? null;
  if (!addresses || !conditions || (ready !== null && typeof ready !== 'boolean') || (nodeName !== null && typeof nodeName !== 'string')) return undefined;
  return { addresses, conditions: conditionsOf(ready), nodeName };
}

const addressCheck = { IPv4: (a: string) => ipv4Value(a) >= 0, IPv6: (a: string) => isIp(a) && a.includes(':'), FQDN: () => true } as const;

/** An EndpointSlice in its usual form read as `EndpointSlice` reads it, or undefined (see common.ts). */
export function plainEndpointSlice(obj: Record<string, unknown>): EndpointSlice | undefined {
  const metadata = obj.kind === 'EndpointSlice' ? plainMeta(obj.metadata) : undefined;
  const addressType = obj.addressType;
  if (!metadata || (addressType !== 'IPv4' && addressType !== 'IPv6' && addressType !== 'FQDN')) return undefined;
  const items = obj.endpoints ?? [];
  if (!Array.isArray(items)) return undefined;
  const endpoints: ReturnType<typeof withDefaults>[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const e = plainEndpoint(items[i], addressCheck[addressType]);
    if (!e) return undefined;
    endpoints[i] = e;
  }
  return { kind: 'EndpointSlice', metadata, addressType, endpoints };
}

/** The name of the Service an EndpointSlice belongs to, or null when it has no such label. */
export function serviceNameOf(slice: EndpointSlice): string | null {
  return slice.metadata.labels[serviceNameLabel] || null;
}
