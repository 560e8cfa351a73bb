import type { ResourceKind } from '../model/resources.js';
import { calicoVersions, type CalicoVersion } from './profiles.js';

/**
 * One input field (or a whole kind, `field: ''`) and the output profiles that render it. The one
 * table of what each profile honours: `view --schema` prints it (`x-bird-confd-profiles`), and a
 * profile warns about the fields it leaves out that change routing.
 */
export interface InputField {
  readonly kind: ResourceKind;
  /** The field path as diagnostics print it, e.g. `spec.ttlSecurity`; '' for the kind as a whole. */
  readonly field: string;
  readonly profiles: readonly CalicoVersion[];
  /** Values that render as if the field were not set: setting one changes nothing. */
  readonly neutral?: readonly (string | number | boolean)[];
  /**
   * Why a profile that leaves the field out does not warn about it: Kubernetes fills it in for
   * every object (a warning would fire for every Service), and what makes it matter is reported
   * where it is configured.
   */
  readonly quiet?: string;
  /** Only on this BGPConfiguration (the v3.32 fields are read from `default` only). */
  readonly only?: string;
}

const both = calicoVersions;
const v332: readonly CalicoVersion[] = ['3.32'];
const v317: readonly CalicoVersion[] = ['3.17'];
const k8s = 'set by Kubernetes; reported through the BGPConfiguration fields that make it matter';

function fields(kind: ResourceKind, profiles: readonly CalicoVersion[], names: readonly string[], extra: Partial<InputField> = {}): InputField[] {
  return names.map((field) => ({ kind, field, profiles, ...extra }));
}

/** Every input field bird-confd reads (in each kind's model order), and which profiles render it. */
export const inputFields: readonly InputField[] = [
  ...fields('BGPConfiguration', both, ['spec.asNumber', 'spec.nodeToNodeMeshEnabled', 'spec.logSeverityScreen', 'spec.listenPort', 'spec.serviceClusterIPs', 'spec.serviceExternalIPs', 'spec.communities', 'spec.prefixAdvertisements']),
  { kind: 'BGPConfiguration', field: 'spec.bindMode', profiles: v332, neutral: ['None'], only: 'default' },
  ...fields('BGPConfiguration', v332, ['spec.ignoredInterfaces', 'spec.nodeMeshPassword', 'spec.nodeMeshMaxRestartTime', 'spec.serviceLoadBalancerIPs'], { only: 'default' }),
  { kind: 'BGPConfiguration', field: 'spec.serviceLoadBalancerAggregation', profiles: v332, neutral: ['Enabled'], only: 'default' },
  { kind: 'BGPConfiguration', field: 'spec.programClusterRoutes', profiles: v332, neutral: ['Enabled'], only: 'default' },
  ...fields('BGPConfiguration', v332, ['spec.ipv4NormalRoutePriority', 'spec.ipv6NormalRoutePriority'], { neutral: [1024], only: 'default' }),
  ...fields('BGPPeer', both, ['spec.node', 'spec.nodeSelector', 'spec.peerIP', 'spec.peerSelector', 'spec.asNumber', 'spec.keepOriginalNextHop', 'spec.password']),
  { kind: 'BGPPeer', field: 'spec.sourceAddress', profiles: v332, neutral: ['UseNodeIP'] },
  ...fields('BGPPeer', v332, ['spec.maxRestartTime', 'spec.keepaliveTime']),
  ...fields('BGPPeer', v332, ['spec.numAllowedLocalASNumbers', 'spec.ttlSecurity'], { neutral: [0] }),
  ...fields('BGPPeer', v332, ['spec.reachableBy']),
  { kind: 'BGPPeer', field: 'spec.nextHopMode', profiles: v332, neutral: ['Auto'] },
  { kind: 'BGPPeer', field: 'spec.reversePeering', profiles: v332, neutral: ['Auto'] },
  ...fields('BGPPeer', v332, ['spec.localASNumber', 'spec.filters', 'spec.localWorkloadSelector']),
  ...fields('Node', both, ['metadata.labels', 'spec.bgp.ipv4Address', 'spec.bgp.ipv6Address', 'spec.bgp.asNumber', 'spec.bgp.routeReflectorClusterID']),
  ...fields('KubeNode', both, ['metadata.labels', 'metadata.annotations']),
  ...fields('IPPool', both, ['spec.cidr', 'spec.ipipMode', 'spec.vxlanMode', 'spec.disabled']),
  { kind: 'IPPool', field: 'spec.disableBGPExport', profiles: v332, neutral: [false] },
  ...fields('BlockAffinity', both, ['spec.node', 'spec.cidr', 'spec.state']),
  ...fields('FelixConfiguration', both, ['spec.serviceLoopPrevention']),
  ...fields('Secret', both, ['data']),
  ...fields('Service', both, ['spec.type', 'spec.externalTrafficPolicy', 'spec.externalIPs']),
  ...fields('Service', v317, ['spec.clusterIP'], { quiet: 'v3.32 reads spec.clusterIPs, which starts with spec.clusterIP' }),
  ...fields('Service', v332, ['spec.clusterIPs', 'spec.ipFamilies', 'spec.loadBalancerIP', 'status.loadBalancer.ingress'], { quiet: k8s }),
  ...fields('Endpoints', v317, ['subsets'], { quiet: 'Kubernetes keeps v1 Endpoints and EndpointSlices in step; v3.32 reads the slices' }),
  { kind: 'EndpointSlice', field: '', profiles: v332 },
  { kind: 'BGPFilter', field: '', profiles: v332 },
  { kind: 'WorkloadEndpointStatus', field: '', profiles: v332 },
];

/** What one profile renders and what it leaves out, by kind (field paths; '' for a whole kind). */
export interface ProfileInputs {
  readonly renders: Readonly<Record<string, readonly string[]>>;
  readonly notRendered: Readonly<Record<string, readonly string[]>>;
}

function byKind(list: readonly InputField[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of list) (out[f.kind] ??= []).push(f.field === '' ? '(the whole kind)' : f.field);
  return out;
}

/** The input fields each profile renders and leaves out, from the table (for `view --schema`). */
export function profileInputs(): Record<CalicoVersion, ProfileInputs> {
  const out = {} as Record<CalicoVersion, ProfileInputs>;
  for (const v of calicoVersions) {
    out[v] = { renders: byKind(inputFields.filter((f) => f.profiles.includes(v))), notRendered: byKind(inputFields.filter((f) => !f.profiles.includes(v))) };
  }
  return out;
}

/** The fields a profile leaves out and reports when they are set (not quiet ones), by kind. */
export function unrenderedFields(version: CalicoVersion): ReadonlyMap<ResourceKind, readonly InputField[]> {
  const out = new Map<ResourceKind, InputField[]>();
  for (const f of inputFields) {
    if (f.profiles.includes(version) || f.quiet) continue;
    const list = out.get(f.kind) ?? [];
    list.push(f);
    out.set(f.kind, list);
  }
  return out;
}
