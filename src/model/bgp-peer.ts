import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { AsNumber, IpAddress, ObjectMeta, ResourceName, intIn, isIp, oneOf, orNull } from './common.js';
import { Duration } from './duration.js';

/** A reference to one key of a Secret in bird-confd's namespace. */
export const SecretKeyRef = z.object({ name: z.string().min(1), key: z.string().min(1), optional: z.boolean().nullish() });

/** Whether and which source address the peerings of a BGPPeer use. */
export const SourceAddress = oneOf(['UseNodeIP', 'None']);
export type SourceAddress = z.infer<typeof SourceAddress>;
/** How the next hop of routes sent to a peer is set. */
export const NextHopMode = oneOf(['Auto', 'Self', 'Keep']);
export type NextHopMode = z.infer<typeof NextHopMode>;
/** Whether the peered nodes get the reverse peering automatically. */
export const ReversePeering = oneOf(['Auto', 'Manual']);
export type ReversePeering = z.infer<typeof ReversePeering>;

/** The fields of a BGPPeer spec; v3.32 fields are null (or empty) when not set. */
const BGPPeerFields = z.object({
  node: z.string().nullish(),
  nodeSelector: z.string().nullish(),
  peerIP: z.string().nullish(),
  peerSelector: z.string().nullish(),
  asNumber: AsNumber.nullish(),
  keepOriginalNextHop: z.boolean().nullish(),
  password: z.object({ secretKeyRef: SecretKeyRef.nullish() }).nullish(),
  sourceAddress: orNull(SourceAddress),
  // Whole seconds as decimal text, rounded as Calico does: `graceful restart time <n>;`.
  maxRestartTime: orNull(Duration),
  keepaliveTime: orNull(Duration),
  numAllowedLocalASNumbers: orNull(intIn(-2147483648, 2147483647)),
  ttlSecurity: orNull(intIn(0, 255)),
  reachableBy: orNull(IpAddress),
  nextHopMode: orNull(NextHopMode),
  reversePeering: orNull(ReversePeering),
  localASNumber: orNull(AsNumber),
  filters: z.array(ResourceName).nullish().transform((f) => f ?? []),
  localWorkloadSelector: orNull(z.string().max(4096, 'at most 4096 characters')),
});
type BGPPeerFields = z.infer<typeof BGPPeerFields>;

/** One rule between fields: the field it is reported on, and the message when it fails. */
type PeerRule = (s: BGPPeerFields) => { field: keyof BGPPeerFields; message: string } | null;

const asSet = (as: string | null | undefined) => !!as && as !== '0';

/** Calico's validateBGPPeerSpec rules (libcalico-go validator v3), one per entry. */
const peerRules: readonly PeerRule[] = [
  (s) => (s.node && s.nodeSelector ? { field: 'node', message: 'cannot be combined with spec.nodeSelector' } : null),
  (s) => (asSet(s.asNumber) && s.peerSelector ? { field: 'asNumber', message: 'must be empty with spec.peerSelector (the AS comes from the selected nodes)' } : null),
  (s) => (s.localWorkloadSelector && s.peerIP ? { field: 'localWorkloadSelector', message: 'cannot be combined with spec.peerIP' } : null),
  (s) => (s.localWorkloadSelector && s.peerSelector ? { field: 'localWorkloadSelector', message: 'cannot be combined with spec.peerSelector' } : null),
  (s) => (s.localWorkloadSelector && !asSet(s.asNumber) ? { field: 'asNumber', message: 'required (not 0) with spec.localWorkloadSelector' } : null),
  (s) => (s.keepOriginalNextHop && s.nextHopMode ? { field: 'keepOriginalNextHop', message: 'must not be true when spec.nextHopMode is set (keepOriginalNextHop is deprecated)' } : null),
  (s) => reachableByRule(s.reachableBy, s.peerIP),
];

function reachableByRule(reachableBy: string | null, peerIP: string | null | undefined): ReturnType<PeerRule> {
  if (!reachableBy) return null;
  if (!peerIP) return { field: 'reachableBy', message: 'requires spec.peerIP' };
  const peer = peerIpFamily(peerIP);
  // A peerIP that does not parse is reported where peers are derived, a bad reachableBy by its
  // own check (zod runs this rule on the other fields' problems too); here only the family.
  if (peer && isIp(reachableBy) && peer !== ipFamily(reachableBy)) return { field: 'reachableBy', message: `must be an ${peer === 'ipv4' ? 'IPv4' : 'IPv6'} address, as spec.peerIP` };
  return null;
}

/** The family of an IP, counting an IPv4-mapped IPv6 address as IPv4 (as Go does). */
function ipFamily(ip: string): 'ipv4' | 'ipv6' {
  if (!ip.includes(':')) return 'ipv4';
  return ipaddr.IPv6.parse(ip).isIPv4MappedAddress() ? 'ipv4' : 'ipv6';
}

/**
 * The family of the host in a `peerIP` (`IP`, `IPv4:port`, `[IPv6]:port`), or null when the
 * host is not an IP address. (render/ splits peerIP fully; the model cannot use its parser.)
 */
function peerIpFamily(peerIP: string): 'ipv4' | 'ipv6' | null {
  const bracket = /^\[([^\]]*)\](?::\d*)?$/.exec(peerIP);
  const colons = peerIP.split(':').length - 1;
  const host = bracket ? bracket[1]! : colons === 1 ? peerIP.slice(0, peerIP.indexOf(':')) : peerIP;
  return isIp(host) ? ipFamily(host) : null;
}

/** Calico BGPPeer spec; which side is local and which remote is decided in render/. */
export const BGPPeerSpec = z.preprocess(
  (s) => s ?? {},
  BGPPeerFields.superRefine((s, ctx) => {
    for (const rule of peerRules) {
      const problem = rule(s);
      if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    }
  }),
);
export type BGPPeerSpec = z.infer<typeof BGPPeerSpec>;

/** Calico BGPPeer resource. */
export const BGPPeer = z.object({ kind: z.literal('BGPPeer'), metadata: ObjectMeta, spec: BGPPeerSpec });
export type BGPPeer = z.infer<typeof BGPPeer>;
