import { z } from 'zod';
import { AsNumber, IpOrCidr, ObjectMeta } from './common.js';

/** An IPv4 address as Calico writes router and cluster ids. */
const Ipv4Text = z.string().refine((s) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255), 'not an IPv4 address');

/** The BGP part of a Calico Node. */
export const NodeBGPSpec = z.object({
  ipv4Address: IpOrCidr.refine((s) => !s.includes(':'), 'not an IPv4 address').nullish(),
  ipv6Address: IpOrCidr.refine((s) => s.includes(':'), 'not an IPv6 address').nullish(),
  asNumber: AsNumber.nullish(),
  routeReflectorClusterID: Ipv4Text.nullish(),
});

/** Calico Node resource (projectcalico.org/v3), or one built from a Kubernetes Node's annotations. */
export const Node = z.object({
  kind: z.literal('Node'),
  metadata: ObjectMeta,
  spec: z
    .object({ bgp: NodeBGPSpec.nullish() })
    .nullish()
    .transform((s) => ({ bgp: s?.bgp ?? null })),
});
export type Node = z.infer<typeof Node>;
