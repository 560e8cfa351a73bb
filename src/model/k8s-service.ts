import { z } from 'zod';
import { ObjectMeta } from './common.js';

/** Kubernetes Service: the fields service advertisement reads. */
export const Service = z.object({
  kind: z.literal('Service'),
  metadata: ObjectMeta,
  spec: z
    .object({
      type: z.string().nullish(),
      clusterIP: z.string().nullish(),
      externalTrafficPolicy: z.string().nullish(),
      externalIPs: z.array(z.string()).nullish(),
    })
    .nullish()
    .transform((s) => s ?? {}),
});
export type Service = z.infer<typeof Service>;
