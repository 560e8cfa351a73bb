import type { BGPConfiguration, BGPConfigurationSpec } from '../../model/bgp-configuration.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import type { Node } from '../../model/node.js';
import type { Snapshot } from '../../model/snapshot.js';
import { compareText } from '../../model/sorted.js';
import { parseNetwork, type Network } from '../addresses.js';
import type { RenderStore } from '../store.js';

/** What the peering rules need to know of one Calico node. */
export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Normalized addresses, '' when unset. */
  readonly ipv4: string;
  readonly ipv6: string;
  /** The masked IPv4 network of the node's address (for IPIP cross-subnet), or null. */
  readonly networkV4: string | null;
  /** The node's own AS, '' when it uses the global one. */
  readonly asNumber: string;
  readonly rrClusterId: string;
  /** The node-specific listen port from `node.<name>` BGPConfiguration, 0 when unset. */
  readonly listenPort: number;
}

/** Cluster-wide BGP settings from the `default` BGPConfiguration, with Calico's defaults. */
export interface GlobalSettings {
  readonly asNumber: string;
  readonly meshEnabled: boolean;
  readonly logLevel: string | null;
  readonly listenPort: number;
  readonly clusterCidrs: readonly Network[];
  readonly externalCidrs: readonly Network[];
}

/** Options that come from the environment in Calico; passed in, never read here. */
export interface ClusterOptions {
  /** CALICO_ADVERTISE_CLUSTER_IPS: overrides serviceClusterIPs (comma-separated CIDRs). */
  readonly advertiseClusterIps?: string;
}

/** The node facts of a Calico Node, kept per resource object in the store. */
export function nodeInfo(store: RenderStore, node: Node, listenPort: number): NodeInfo {
  const known = store.nodeInfos.get(node);
  if (known && known.listenPort === listenPort) return known;
  const info = deriveNodeInfo(node, listenPort);
  store.nodeInfos.set(node, info);
  return info;
}

function deriveNodeInfo(node: Node, listenPort: number): NodeInfo {
  const bgp = node.spec.bgp;
  const v4 = bgp?.ipv4Address ? parseNetwork(bgp.ipv4Address) : null;
  const v6 = bgp?.ipv6Address ? parseNetwork(bgp.ipv6Address) : null;
  return {
    name: node.metadata.name,
    labels: node.metadata.labels,
    ipv4: v4?.address ?? '',
    ipv6: v6?.address ?? '',
    networkV4: v4?.cidr ?? null,
    asNumber: bgp?.asNumber ?? '',
    rrClusterId: bgp?.routeReflectorClusterID ?? '',
    listenPort,
  };
}

/** Calico Nodes, plus Kubernetes Nodes standing for a Calico Node of the same name that is not given. */
export function calicoNodes(snapshot: Snapshot): Node[] {
  const byName = new Map<string, Node>();
  for (const kube of snapshot.list('KubeNode')) if (kube.calicoNode) byName.set(kube.metadata.name, kube.calicoNode);
  for (const node of snapshot.list('Node')) byName.set(node.metadata.name, node);
  return [...byName.keys()].sort(compareText).map((k) => byName.get(k)!);
}

/** The `default` BGPConfiguration read with Calico's defaults (and CALICO_ADVERTISE_CLUSTER_IPS). */
export function globalSettings(cfg: BGPConfiguration | undefined, options: ClusterOptions, diagnostics: Diagnostic[]): GlobalSettings {
  const spec: Partial<BGPConfigurationSpec> = cfg?.spec ?? {};
  const cidrs = (entries: readonly { cidr: string }[] | null | undefined) =>
    (entries ?? []).map((e) => parseNetwork(e.cidr)).filter((n): n is Network => n !== null);
  let clusterCidrs = cidrs(spec.serviceClusterIPs);
  if (options.advertiseClusterIps) {
    const list = options.advertiseClusterIps.split(',').map((s) => s.trim()).filter(Boolean);
    const parsed = list.map((s) => parseNetwork(s));
    if (parsed.some((p) => p === null)) {
      diagnostics.push({ severity: 'error', object: 'env CALICO_ADVERTISE_CLUSTER_IPS', message: 'not a comma-separated list of CIDRs' });
    } else {
      clusterCidrs = parsed as Network[];
    }
  }
  return {
    asNumber: spec.asNumber ?? '64512',
    meshEnabled: spec.nodeToNodeMeshEnabled ?? true,
    logLevel: spec.logSeverityScreen ? spec.logSeverityScreen.toLowerCase() : null,
    listenPort: spec.listenPort ?? 0,
    clusterCidrs,
    externalCidrs: cidrs(spec.serviceExternalIPs),
  };
}
