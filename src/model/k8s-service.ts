import { z } from 'zod';
import { ObjectMeta, isIp } from './common.js';

const ClusterIp = z.string().refine((s) => s === '' || s === 'None' || isIp(s), 'not an IP address (or "None")');

/** Kubernetes Service: the fields service advertisement reads. */
export const Service = z.object({
  kind: z.literal('Service'),
  metadata: ObjectMeta,
  spec: z
    .object({
      type: z.string().nullish(),
      clusterIP: ClusterIp.nullish(),
      externalTrafficPolicy: z.string().nullish(),
      externalIPs: z.array(z.string().refine(isIp, 'not an IP address')).nullish(),
    })
    .nullish()
    .transform((s) => s ?? {}),
});
export type Service = z.infer<typeof Service>;
