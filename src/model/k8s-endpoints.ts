import { z } from 'zod';
import { ObjectMeta, isIp } from './common.js';

const EndpointAddress = z.object({ ip: z.string().refine(isIp, 'not an IP address'), nodeName: z.string().nullish() });

/** Kubernetes Endpoints: ready addresses and their nodes (notReadyAddresses are ignored, as in Calico). */
export const Endpoints = z.object({
  kind: z.literal('Endpoints'),
  metadata: ObjectMeta,
  subsets: z
    .array(z.object({ addresses: z.array(EndpointAddress).nullish() }))
    .nullish()
    .transform((s) => s ?? []),
});
export type Endpoints = z.infer<typeof Endpoints>;
