import type { BGPConfiguration } from './bgp-configuration.js';
import type { BGPFilter } from './bgp-filter.js';
import type { BGPPeer } from './bgp-peer.js';
import type { BlockAffinity } from './block-affinity.js';
import type { FelixConfiguration } from './felix-configuration.js';
import type { IPPool } from './ip-pool.js';
import type { EndpointSlice } from './k8s-endpoint-slice.js';
import type { Endpoints } from './k8s-endpoints.js';
import type { KubeNode } from './k8s-node.js';
import type { Secret } from './k8s-secret.js';
import type { Service } from './k8s-service.js';
import type { Node } from './node.js';
import type { WorkloadEndpointStatus } from './workload-endpoint-status.js';

/** A Kubernetes Node, with the Calico Node its annotations describe (null when they are invalid). */
export type KubeNodeResource = KubeNode & { readonly calicoNode: Node | null };

/** Every resource kind the snapshot holds, by kind name. */
export interface ResourceByKind {
  BGPConfiguration: BGPConfiguration;
  BGPPeer: BGPPeer;
  Node: Node;
  IPPool: IPPool;
  BlockAffinity: BlockAffinity;
  FelixConfiguration: FelixConfiguration;
  Service: Service;
  Endpoints: Endpoints;
  Secret: Secret;
  KubeNode: KubeNodeResource;
  BGPFilter: BGPFilter;
  EndpointSlice: EndpointSlice;
  WorkloadEndpointStatus: WorkloadEndpointStatus;
}

/** A kind name known to the snapshot. */
export type ResourceKind = keyof ResourceByKind;
/** Any resource the snapshot holds. */
export type Resource = ResourceByKind[ResourceKind];

/** Every kind, in a fixed order. */
export const resourceKinds: readonly ResourceKind[] = [
  'BGPConfiguration', 'BGPPeer', 'Node', 'IPPool', 'BlockAffinity', 'FelixConfiguration',
  'Service', 'Endpoints', 'Secret', 'KubeNode', 'BGPFilter', 'EndpointSlice', 'WorkloadEndpointStatus',
];

/** Kinds that live in a namespace (Calico v3 resources are cluster-scoped). */
export const namespacedKinds: ReadonlySet<ResourceKind> = new Set(['Service', 'Endpoints', 'Secret', 'EndpointSlice']);

/** The identity of a resource: kind, namespace ('' when cluster-scoped) and name. */
export interface ResourceId {
  readonly kind: ResourceKind;
  readonly namespace: string;
  readonly name: string;
}

/** The namespace a resource is stored under. */
export function namespaceOf(kind: ResourceKind, namespace: string | null | undefined): string {
  return namespacedKinds.has(kind) ? namespace || 'default' : '';
}

/** `Kind/name` or `Kind/namespace/name`, as diagnostics print objects. */
export function describeId(id: ResourceId): string {
  const kind = id.kind === 'KubeNode' ? 'Node(v1)' : id.kind;
  return id.namespace ? `${kind}/${id.namespace}/${id.name}` : `${kind}/${id.name}`;
}

/** The identity of a stored resource. */
export function idOf(resource: Resource): ResourceId {
  return { kind: resource.kind, namespace: namespaceOf(resource.kind, resource.metadata.namespace), name: resource.metadata.name };
}
