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
  }),
});
export type IPPool = z.infer<typeof IPPool>;
