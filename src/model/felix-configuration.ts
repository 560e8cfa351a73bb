import { z } from 'zod';
import { ObjectMeta } from './common.js';

/** The loop-prevention modes bird-confd reads from FelixConfiguration `default`. */
export const ServiceLoopPrevention = z.enum(['Drop', 'Reject', 'Disabled']);
export type ServiceLoopPrevention = z.infer<typeof ServiceLoopPrevention>;

/** Calico FelixConfiguration; only serviceLoopPrevention is read. */
export const FelixConfiguration = z.object({
  kind: z.literal('FelixConfiguration'),
  metadata: ObjectMeta,
  spec: z
    .object({ serviceLoopPrevention: ServiceLoopPrevention.nullish() })
    .nullish()
    .transform((s) => s ?? {}),
});
export type FelixConfiguration = z.infer<typeof FelixConfiguration>;
