import { z } from 'zod';
import { AsNumber, ObjectMeta } from './common.js';

/** A reference to one key of a Secret in bird-confd's namespace. */
export const SecretKeyRef = z.object({ name: z.string().min(1), key: z.string().min(1), optional: z.boolean().nullish() });

/** Calico BGPPeer spec; which side is local and which remote is decided in render/. */
export const BGPPeerSpec = z
  .object({
    node: z.string().nullish(),
    nodeSelector: z.string().nullish(),
    peerIP: z.string().nullish(),
    peerSelector: z.string().nullish(),
    asNumber: AsNumber.nullish(),
    keepOriginalNextHop: z.boolean().nullish(),
    password: z.object({ secretKeyRef: SecretKeyRef.nullish() }).nullish(),
  })
  .nullish()
  .transform((s) => s ?? {});

/** Calico BGPPeer resource. */
export const BGPPeer = z.object({ kind: z.literal('BGPPeer'), metadata: ObjectMeta, spec: BGPPeerSpec });
export type BGPPeer = z.infer<typeof BGPPeer>;
