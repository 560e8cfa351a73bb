import { z } from 'zod';
import { AsNumber, Cidr, IpOrCidr, ObjectMeta, Port } from './common.js';

/** A named community in BGPConfiguration. */
export const Community = z.object({ name: z.string().min(1), value: z.string() });

/** One prefixAdvertisements entry; the CIDR may be a bare IP, as Calico allows. */
export const PrefixAdvertisement = z.object({
  cidr: IpOrCidr,
  communities: z.array(z.string()).nullish().transform((c) => c ?? []),
});
export type PrefixAdvertisement = z.infer<typeof PrefixAdvertisement>;

const CidrEntry = z.object({ cidr: Cidr });

/** Calico BGPConfiguration: `default` (cluster-wide) and `node.<name>` (per node). */
export const BGPConfigurationSpec = z
  .object({
    asNumber: AsNumber.nullish(),
    nodeToNodeMeshEnabled: z.boolean().nullish(),
    logSeverityScreen: z.string().nullish(),
    listenPort: z.union([z.literal(0), Port]).nullish(),
    serviceClusterIPs: z.array(CidrEntry).nullish(),
    serviceExternalIPs: z.array(CidrEntry).nullish(),
    communities: z.array(Community).nullish(),
    prefixAdvertisements: z.array(PrefixAdvertisement).nullish(),
  })
  .nullish()
  .transform((s) => s ?? {});

/** Calico BGPConfiguration resource. */
export const BGPConfiguration = z.object({
  kind: z.literal('BGPConfiguration'),
  metadata: ObjectMeta,
  spec: BGPConfigurationSpec,
});
export type BGPConfiguration = z.infer<typeof BGPConfiguration>;
