import { bgpConfigurationDefaults, type BGPConfiguration } from '../../model/bgp-configuration.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import type { Snapshot } from '../../model/snapshot.js';
import { parseNetwork, type Family, type Network } from '../addresses.js';
import { passwordProblem } from '../facts/peerings.js';

/** The cluster-wide settings Calico v3.32 reads from the `default` BGPConfiguration (only there). */
export interface Settings332 {
  readonly bindNodeIp: boolean;
  readonly ignoredInterfaces: readonly string[];
  /** The mesh password (a secret), or null. */
  readonly meshPassword: string | null;
  /** `nodeMeshMaxRestartTime` in whole seconds as text, '' when not set. */
  readonly meshRestartTime: string;
  /** `serviceLoadBalancerIPs` entries (empty ones skipped). */
  readonly loadBalancerIps: readonly Network[];
  readonly loadBalancerAggregation: boolean;
  readonly programClusterRoutes: boolean;
  /** The normal route priority per family (P); T is 2147483647 - P. */
  readonly priority: Readonly<Record<Family, number>>;
}

/** Reads the v3.32 settings; a mesh password that cannot be used is an error and the mesh goes without. */
export function settings332(cfg: BGPConfiguration | undefined, snapshot: Snapshot, secretNamespace: string, diagnostics: Diagnostic[]): Settings332 {
  const spec = cfg?.spec;
  return {
    bindNodeIp: spec?.bindMode === 'NodeIP',
    ignoredInterfaces: spec?.ignoredInterfaces ?? [],
    meshPassword: cfg ? meshPassword(cfg, snapshot, secretNamespace, diagnostics) : null,
    meshRestartTime: spec?.nodeMeshMaxRestartTime ?? '',
    loadBalancerIps: (spec?.serviceLoadBalancerIPs ?? []).map((e) => (e.cidr ? parseNetwork(e.cidr) : null)).filter((n): n is Network => n !== null),
    loadBalancerAggregation: (spec?.serviceLoadBalancerAggregation ?? bgpConfigurationDefaults.serviceLoadBalancerAggregation) === 'Enabled',
    // Only the exact word Disabled turns cluster routes off (Calico's rule).
    programClusterRoutes: spec?.programClusterRoutes !== 'Disabled',
    priority: {
      ipv4: spec?.ipv4NormalRoutePriority ?? bgpConfigurationDefaults.normalRoutePriority,
      ipv6: spec?.ipv6NormalRoutePriority ?? bgpConfigurationDefaults.normalRoutePriority,
    },
  };
}

function meshPassword(cfg: BGPConfiguration, snapshot: Snapshot, namespace: string, diagnostics: Diagnostic[]): string | null {
  const ref = cfg.spec.nodeMeshPassword?.secretKeyRef;
  if (!ref) return null;
  const object = `BGPConfiguration/${cfg.metadata.name}`;
  const field = 'spec.nodeMeshPassword.secretKeyRef';
  const value = snapshot.get('Secret', ref.name, namespace)?.values[ref.key];
  if (value === undefined) {
    // As Calico: a missing Secret or key means no mesh password (the mesh keeps running without).
    diagnostics.push({ severity: 'warning', object, field, message: `Secret ${namespace}/${ref.name} key ${JSON.stringify(ref.key.slice(0, 253))} not found; mesh without password` });
    return null;
  }
  const problem = passwordProblem(value);
  if (problem) {
    diagnostics.push({ severity: 'error', object, field, message: `${problem}; mesh without password` });
    return null;
  }
  return value;
}
