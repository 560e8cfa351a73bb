import { z } from 'zod';
import { AsNumber, IpOrCidr, ObjectMeta, ipv4Value, isIpOrCidr, plainMeta, plainObject } from './common.js';

/** True when `s` is an IPv4 address as Calico writes router and cluster ids (a dotted quad). */
const isIpv4Text = (s: string) => ipv4Value(s) >= 0;
const Ipv4Text = z.string().refine(isIpv4Text, 'not an IPv4 address');

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

/** A plain decimal AS number as `AsNumber` normalizes it, or undefined (the dotted form and anything odd go to the schema). */
function plainAsNumber(v: unknown): string | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 4294967295 ? String(n) : undefined;
}

/** Readers of the BGP fields in their usual form (as `NodeBGPSpec` gives them), each undefined for anything else. */
const bgpFields: readonly [string, (v: unknown) => string | undefined][] = [
  ['ipv4Address', (v) => (typeof v === 'string' && !v.includes(':') && isIpOrCidr(v) ? v : undefined)],
  ['ipv6Address', (v) => (typeof v === 'string' && v.includes(':') && isIpOrCidr(v) ? v : undefined)],
  ['asNumber', plainAsNumber],
  ['routeReflectorClusterID', (v) => (typeof v === 'string' && isIpv4Text(v) ? v : undefined)],
];

/** A Calico Node in its usual form read as `Node` reads it, or undefined (see common.ts). */
export function plainNode(obj: Record<string, unknown>): Node | undefined {
  const metadata = obj.kind === 'Node' ? plainMeta(obj.metadata) : undefined;
  const spec = obj.spec == null ? {} : plainObject(obj.spec);
  if (!metadata || !spec) return undefined;
  if (spec.bgp == null) return { kind: 'Node', metadata, spec: { bgp: null } };
  const from = plainObject(spec.bgp);
  if (!from) return undefined;
  const bgp: Record<string, unknown> = {};
  for (const [key, read] of bgpFields) {
    if (!(key in from)) continue;
    const v = from[key];
    const out = v === null || v === undefined ? v : read(v);
    if (out === undefined && v !== undefined) return undefined;
    bgp[key] = out;
  }
  return { kind: 'Node', metadata, spec: { bgp: bgp as z.output<typeof NodeBGPSpec> } };
}
