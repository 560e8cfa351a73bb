import { z } from 'zod';
import { Cidr, ObjectMeta } from './common.js';

/** Calico BlockAffinity (the CRD form; the v3 form has the same spec). */
export const BlockAffinity = z.object({
  kind: z.literal('BlockAffinity'),
  metadata: ObjectMeta,
  spec: z.object({
    node: z.string().min(1),
    cidr: Cidr,
    // Printed in a comment: a state is a plain word (confirmed, pending, pendingDeletion, or empty).
    state: z.string().regex(/^[A-Za-z]{0,64}$/, 'not a block state').nullish().transform((s) => s ?? ''),
    // The CRD stores `deleted` as a string; nothing renders from it (Calico ignores it too).
    deleted: z.union([z.string(), z.boolean()]).nullish(),
  }),
});
export type BlockAffinity = z.infer<typeof BlockAffinity>;
