import type { BGPPeer } from '../model/bgp-peer.js';
import type { BlockAffinity } from '../model/block-affinity.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { ResourceKind } from '../model/resources.js';
import type { Snapshot } from '../model/snapshot.js';
import type { Service } from '../model/k8s-service.js';
import type { IPPool } from '../model/ip-pool.js';
import type { Node } from '../model/node.js';
import type { Family } from './addresses.js';
import type { BlockFact } from './facts/blocks.js';
import type { ClusterFacts } from './facts/cluster.js';
import type { MeshEntry } from './facts/mesh.js';
import type { NodeLabelIndex } from './facts/node-index.js';
import type { NodeInfo } from './facts/nodes.js';
import type { PeerSpec, PeerSpecEntry } from './facts/peer-specs.js';
import type { Membership, PeerRecord, PeerSides } from './facts/peerings.js';
import type { ServiceContribution, ServiceIndex } from './facts/services.js';
import type { CalicoVersion } from './profiles.js';
import type { PeerTextCache } from './text/peer-text.js';
import type { PeerBase } from './v3-32/peers.js';
import type { ServiceIndex332 } from './v3-32/services.js';
import type { MeshPeerViews } from './view/mesh-view.js';
import type { PoolInfo } from './view/pools.js';
import type { MeshView, PeerView } from './view/view-types.js';
import type { WindowsPeering } from './view/windows-view.js';

/**
 * A value derived from one object, kept for the latest such object only: what a WeakMap would do
 * for keys that are made anew on every change (a node list, a mesh's entries) and never come back.
 * A WeakMap there costs a daemon more than it keeps: V8's young-generation collector holds a
 * WeakMap's values strongly and drops an entry whose key died only after, so a value that was
 * alive at one young collection is promoted to the old generation at the next even when its key
 * died in between (a 5,000-node mesh's peer list, every change); where a value reaches its key,
 * the entry stays until a full collection. This keeps one value, and drops it when replaced.
 */
/** Where a family's value sits in the store's per-family pairs: IPv4 first, IPv6 second. */
export const familySlot = (family: Family): 0 | 1 => (family === 'ipv4' ? 0 : 1);

/** A node's mesh view (Calico v3.17) with its diagnostics. */
interface MeshViewMemo {
  readonly view: MeshView;
  readonly diagnostics: readonly Diagnostic[];
}

/** The sorted v3.32 mesh peers of the last node rendered, with the key of its viewpoint. */
interface MeshPeers332 {
  readonly viewer: string;
  readonly peers: readonly PeerView[];
}

export class Latest<K extends object, V> {
  private key: K | undefined = undefined;
  private value: V | undefined = undefined;

  /** The value kept for `key`, if `key` is the latest key set. */
  get(key: K): V | undefined {
    return this.key === key ? this.value : undefined;
  }

  /** Keeps `value` for `key`, dropping what was kept for the previous key; returns `value`. */
  set(key: K, value: V): V {
    this.key = key;
    this.value = value;
    return value;
  }
}

/**
 * The incremental state of rendering: every value derived from the snapshot and kept between
 * renders, so that a change costs time in proportion to the change. Render functions are pure
 * apart from this store, which the caller owns and passes in: the daemon keeps one per snapshot
 * lineage and drops it when a source lists again; a one-shot render makes a fresh one.
 *
 * The rule every cache here depends on: a resource in the snapshot is never mutated, and keeps
 * its identity (the same object) while it is unchanged. Derived values are keyed by those
 * objects (and by derived objects, which follow the same rule), so a changed resource is a new
 * key and its old derivations are simply not found again (and collected with their key). Values
 * derived from a whole list that is new after every change are kept only for the latest list
 * (`Latest`, not a WeakMap).
 */
export class RenderStore {
  private version: CalicoVersion | undefined = undefined;

  /**
   * Whether the store renders every node of a cluster once (a whole-cluster preview, `render
   * --all-nodes`) rather than one node again and again (the daemon, a one-node render). Such a
   * store indexes the nodes by label and finds each node's BGPPeers once for all nodes (for one
   * node, trying the selectors costs less than an index), and keeps no node's own views.
   */
  readonly rendersEveryNode: boolean;

  /**
   * Whether the store keeps what the next render of the same node reuses (its peer views and
   * texts): the daemon's store does. A store that renders every node keeps only what nodes share;
   * a node's own views would never be asked for again, and keeping them till the next node
   * replaces them only makes work for the GC.
   */
  readonly keepsNodeViews: boolean;

  constructor(options: { readonly rendersEveryNode?: boolean } = {}) {
    this.rendersEveryNode = options.rendersEveryNode ?? false;
    this.keepsNodeViews = !this.rendersEveryNode;
  }

  /** Ties the store to one Calico release: its derived values (peer records, views, text) are of that release. */
  bindTo(version: CalicoVersion): void {
    if (this.version !== undefined && this.version !== version) throw new Error(`a render store holds Calico ${this.version} state; use a new one for ${version}`);
    this.version = version;
  }

  /** The facts of the last state rendered from, reused part by part for the next one. */
  facts: ClusterFacts | undefined = undefined;
  /** Node facts per Calico Node resource. */
  readonly nodeInfos = new WeakMap<Node, NodeInfo>();
  /** Block facts per block affinity (null: the CIDR does not parse). */
  readonly blocks = new WeakMap<BlockAffinity, BlockFact | null>();
  /** Parsed BGPPeers with their problems. */
  readonly peerSpecs = new WeakMap<BGPPeer, PeerSpecEntry>();
  /** For the latest node list, in a store that renders every node: its nodes by label. */
  readonly labelIndexes = new Latest<readonly NodeInfo[], NodeLabelIndex>();
  /** For the latest BGPPeer list and node list, in a store that renders every node: each node's BGPPeers. */
  readonly memberships = new Latest<readonly PeerSpec[], Latest<readonly NodeInfo[], ReadonlyMap<string, Membership>>>();
  /** For the latest node list: what each BGPPeer means for the whole cluster. */
  readonly peerSides = new Latest<readonly NodeInfo[], Map<PeerSpec, PeerSides>>();
  /** The service routes per node, patched in place after Service and Endpoints changes. */
  serviceIndex: ServiceIndex | null = null;
  /** Calico v3.32's service routes (from EndpointSlices), patched in place after Service and slice changes. */
  serviceIndex332: ServiceIndex332 | null = null;
  /** One Service's routes per node. */
  readonly serviceContributions = new WeakMap<Service, ServiceContribution>();
  /** A node's two mesh peer views per family slot, as its neighbours see it. */
  readonly meshPeers = new WeakMap<NodeInfo, [MeshPeerViews | undefined, MeshPeerViews | undefined]>();
  /** Per family, for the latest mesh (entries array): the mesh views of the last few nodes rendered. */
  readonly meshViews = [new Latest<readonly MeshEntry[], Map<NodeInfo, MeshViewMemo>>(), new Latest<readonly MeshEntry[], Map<NodeInfo, MeshViewMemo>>()] as const;
  /** Per family (IPv4, IPv6) and node: the last v3.32 mesh peer view made of it, with the key of what it was made for. */
  readonly meshPeerViews332 = [new WeakMap<NodeInfo, { readonly made: string; readonly view: PeerView }>(), new WeakMap<NodeInfo, { readonly made: string; readonly view: PeerView }>()] as const;
  /** Per family, for the latest mesh (entries array): the sorted v3.32 mesh peers of the last node rendered, with the key of its viewpoint. */
  readonly meshPeers332 = [new Latest<readonly MeshEntry[], MeshPeers332>(), new Latest<readonly MeshEntry[], MeshPeers332>()] as const;
  /** A peer's Windows form. */
  readonly windowsPeerings = new WeakMap<PeerView, WindowsPeering>();
  /**
   * The last peer view made from each peer record (or mesh node), with the key of what it was
   * made for: the next render of the same node, or another node that sees the peer the same way,
   * gets the same object back, and with it the peer text kept for it.
   */
  readonly peerViews = new WeakMap<object, { readonly made: string; readonly view: PeerView }>();
  /** For the latest IPPool list: the pools of each family (see `poolsOf`). */
  readonly pools = new Latest<readonly IPPool[], Partial<Record<Family, readonly PoolInfo[]>>>();
  /** The v3.32 lines before a peer's neighbor line, per TTL security and local AS: one list for all the peers that have them. */
  readonly peerBeforeLines = new Map<string, readonly string[]>();
  /** Per v3.32 peer record: the parts of its view that do not depend on the node that has it. */
  readonly peerBases = new WeakMap<PeerRecord, PeerBase>();
  /** Per compiled peer template: the text of each peer and of runs of peers. */
  readonly peerTexts = new WeakMap<object, PeerTextCache>();
  /** Per resource object: the set fields the Calico v3.17 profile does not render ('' for a kind it does not read). */
  readonly unrendered317 = new WeakMap<object, readonly string[]>();
  /** Per kind: the v3.17 profile's warnings about those fields, at a snapshot revision of the kind. */
  readonly unrendered317Kinds = new Map<ResourceKind, { readonly snapshot: Snapshot; readonly revision: string; readonly diagnostics: readonly Diagnostic[] }>();
}
