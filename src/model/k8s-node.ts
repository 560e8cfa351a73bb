import { z } from 'zod';
import { ObjectMeta } from './common.js';
import type { Node } from './node.js';

/**
 * Kubernetes Node; in the Kubernetes datastore Calico keeps a node's BGP data in its annotations.
 * Only Calico's annotations are kept: the others (heartbeats and the like) change often and can
 * never change a rendered file, so an update of them must not count as a change.
 */
export const KubeNode = z.object({
  kind: z.literal('KubeNode'),
  metadata: ObjectMeta.transform((m) => ({
    ...m,
    annotations: Object.fromEntries(Object.entries(m.annotations).filter(([k]) => k.startsWith('projectcalico.org/'))),
  })),
});
export type KubeNode = z.infer<typeof KubeNode>;

/** The annotations calico-node writes on a Kubernetes Node. */
export const CalicoAnnotations = {
  ipv4: 'projectcalico.org/IPv4Address',
  ipv6: 'projectcalico.org/IPv6Address',
  asNumber: 'projectcalico.org/ASNumber',
  rrClusterId: 'projectcalico.org/RouteReflectorClusterID',
} as const;

/**
 * The Calico Node document a Kubernetes Node stands for: its labels plus the BGP fields from
 * Calico's annotations. Returned unvalidated, so that the Node schema checks it and names fields.
 */
export function calicoNodeDocument(node: KubeNode): Record<string, unknown> {
  const a = node.metadata.annotations;
  const bgp = {
    ipv4Address: a[CalicoAnnotations.ipv4],
    ipv6Address: a[CalicoAnnotations.ipv6],
    asNumber: a[CalicoAnnotations.asNumber],
    routeReflectorClusterID: a[CalicoAnnotations.rrClusterId],
  };
  const hasBgp = Object.values(bgp).some((v) => v !== undefined);
  return {
    kind: 'Node',
    metadata: { name: node.metadata.name, labels: node.metadata.labels },
    spec: hasBgp ? { bgp } : {},
  } satisfies Record<string, unknown> & { kind: Node['kind'] };
}
