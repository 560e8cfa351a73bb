import type { Family } from '../addresses.js';
import type { ClusterFacts } from '../facts/cluster.js';
import type { PeerSpec } from '../facts/peer-specs.js';
import { noSettings, type PeeringRules, type PeerSettings, type RecordOrigin } from '../facts/peerings.js';

/** Whether an address is a Calico node's (v3.32's `calico_node`, compared on normalized addresses). */
function isNodeAddress(facts: ClusterFacts, ip: string): boolean {
  return facts.nodeList.some((n) => n.ipv4 === ip || n.ipv6 === ip);
}

/**
 * The session settings of a record, as Calico v3.32 copies them (its `setPeerConfigFieldsFromV3Resource`
 * and the per-origin fields of §3.3): peerIP records carry every field; selector and reverse
 * records all but the local AS fields (quirk V3, kept).
 */
function settingsOf(facts: ClusterFacts, p: PeerSpec, origin: RecordOrigin): PeerSettings {
  const s = p.resource.spec;
  const forwardIp = origin === 'peer-ip';
  return {
    ...noSettings,
    localAs: forwardIp && s.localASNumber && s.localASNumber !== '0' ? s.localASNumber : '',
    numAllowLocalAs: forwardIp ? Math.max(0, s.numAllowedLocalASNumbers ?? 0) : 0,
    sourceAddress: s.sourceAddress ?? 'UseNodeIP',
    restartTime: s.maxRestartTime ?? '',
    keepaliveTime: s.keepaliveTime ?? '',
    ttlSecurity: s.ttlSecurity ?? 0,
    reachableBy: s.reachableBy ?? '',
    filters: s.filters,
    nextHopMode: s.nextHopMode ?? '',
    calicoNode: forwardIp && p.remote.kind === 'ip' && isNodeAddress(facts, p.remote.ip),
  };
}

/** The v3.32 rules: settings on every origin, `reversePeering: Manual`, reverse families of a peerIP by its family. */
export const peeringRules332: PeeringRules = {
  settings: settingsOf,
  // The legacy flag counts only while nextHopMode is not set (then the mode decides).
  keepNextHop: (p) => !p.resource.spec.nextHopMode && (p.resource.spec.keepOriginalNextHop ?? false),
  reverse: (p) => p.resource.spec.reversePeering !== 'Manual' && p.remote.kind !== 'local-workload',
  reverseFamiliesOfIp: (p): readonly Family[] => (p.remote.kind === 'ip' && p.remote.ip.includes(':') ? ['ipv6'] : ['ipv4']),
  localWorkloads: true,
};
