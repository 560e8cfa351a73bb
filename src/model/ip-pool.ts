import { z } from 'zod';
import { Cidr, ObjectMeta } from './common.js';

/** Encapsulation modes; anything else reads as Never, like Calico. */
const Mode = z.string().nullish().transform((m) => (m === 'Always' || m === 'CrossSubnet' ? m : 'Never'));

/** Calico IPPool resource. */
export const IPPool = z.object({
  kind: z.literal('IPPool'),
  metadata: ObjectMeta,
  spec: z.object({
    cidr: Cidr,
    ipipMode: Mode,
    vxlanMode: Mode,
    natOutgoing: z.boolean().nullish(),
    disabled: z.boolean().nullish(),
    // v3.32: the pool's routes are not exported to BGP peers (false when not set).
    disableBGPExport: z.boolean().nullish().transform((d) => d ?? false),
  }),
});
export type IPPool = z.infer<typeof IPPool>;

/**
 * Calico's API rules for a pool's encapsulation that confd itself does not enforce: both are
 * reported as warnings, and the pool is rendered as confd renders it (VXLAN wins; IPv6 files
 * have no IPIP), since leaving the pool out would withdraw its routes.
 */
export function ipPoolWarnings(pool: IPPool): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const { ipipMode, vxlanMode, cidr } = pool.spec;
  if (ipipMode !== 'Never' && vxlanMode !== 'Never') {
    out.push({ field: 'spec.ipipMode', message: "IPIP and VXLAN cannot both be enabled (Calico's API refuses it); rendered as VXLAN, as confd does" });
  }
  if (ipipMode !== 'Never' && cidr.includes(':')) {
    out.push({ field: 'spec.ipipMode', message: "IPIP is not allowed on an IPv6 pool (Calico's API refuses it); ignored" });
  }
  return out;
}
