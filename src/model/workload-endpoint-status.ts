import { z } from 'zod';
import { ObjectMeta, isCidr } from './common.js';

/**
 * One of Felix's workload endpoint-status files (`<prefix>/endpoint-status/<file>`), as a
 * document of bird-confd's own kind (apiVersion `bird-confd/v1`, not a Calico API):
 * `metadata.name` stands for the file name, `spec` holds the file's JSON fields. Only what local
 * workload peering reads is kept; the nets are checked when the peer is derived (as confd does,
 * a file whose first entry does not parse is skipped, not refused).
 */
export const WorkloadEndpointStatus = z.object({
  kind: z.literal('WorkloadEndpointStatus'),
  metadata: ObjectMeta,
  spec: z.preprocess(
    (s) => s ?? {},
    z.object({
      ifaceName: z.string().nullish().transform((v) => v ?? ''),
      mac: z.string().nullish().transform((v) => v ?? ''),
      ipv4Nets: z.array(z.string()).nullish().transform((v) => v ?? []),
      ipv6Nets: z.array(z.string()).nullish().transform((v) => v ?? []),
      bgpPeerName: z.string().nullish().transform((v) => v ?? ''),
    }),
  ),
});
export type WorkloadEndpointStatus = z.infer<typeof WorkloadEndpointStatus>;

/** A workload to peer with: the BGPPeer that asked for it and its first address per family. */
export interface LocalWorkloadPeer {
  /** The BGPPeer's metadata.name, as Felix wrote it. */
  readonly bgpPeerName: string;
  /** The address part of `ipv4Nets[0]`, as written (normalize it like any peer IP), or null. */
  readonly ipv4: string | null;
  /** The address part of `ipv6Nets[0]`, as written, or null. */
  readonly ipv6: string | null;
}

/** A status that yields no peer: why, and the field to blame (when one is). */
export interface SkippedEndpoint {
  readonly skipped: string;
  readonly field?: string;
}

/** The address part of the first entry of a nets list: null when the list is empty. */
function firstAddress(nets: readonly string[], family: 'IPv4' | 'IPv6', field: string): { ip: string | null } | SkippedEndpoint {
  if (nets.length === 0) return { ip: null };
  const net = nets[0]!;
  if (isCidr(net) && net.includes(':') === (family === 'IPv6')) return { ip: net.slice(0, net.indexOf('/')) };
  return { skipped: `not an ${family} address/length: ${JSON.stringify(net.slice(0, 60))}; the endpoint is skipped, as confd does`, field };
}

/**
 * The peer an endpoint status asks for, by confd v3.32's local BGP peer rules: only with a
 * bgpPeerName; the first IPv4 and IPv6 entries; a first entry that does not parse skips the
 * whole endpoint, and so does having neither.
 */
export function localWorkloadPeer(status: WorkloadEndpointStatus): LocalWorkloadPeer | SkippedEndpoint {
  const { bgpPeerName, ipv4Nets, ipv6Nets } = status.spec;
  if (!bgpPeerName) return { skipped: 'no bgpPeerName: not a BGP peer' };
  const v4 = firstAddress(ipv4Nets, 'IPv4', 'spec.ipv4Nets[0]');
  if ('skipped' in v4) return v4;
  const v6 = firstAddress(ipv6Nets, 'IPv6', 'spec.ipv6Nets[0]');
  if ('skipped' in v6) return v6;
  if (v4.ip === null && v6.ip === null) return { skipped: 'neither ipv4Nets nor ipv6Nets: nothing to peer with', field: 'spec' };
  return { bgpPeerName, ipv4: v4.ip, ipv6: v6.ip };
}

/** Warnings for a loaded status that will give no peer although it names a BGPPeer. */
export function workloadEndpointStatusWarnings(status: WorkloadEndpointStatus): { field: string; message: string }[] {
  const peer = localWorkloadPeer(status);
  if (!('skipped' in peer) || !status.spec.bgpPeerName) return [];
  return [{ field: peer.field ?? 'spec', message: peer.skipped }];
}
