import type { Family } from '../addresses.js';
import type { CalicoVersion } from '../profiles.js';
import type { FamilyView332 } from '../v3-32/view-types.js';
import type { WindowsView } from './windows-view.js';
import type { LoopPreventionView } from './loop-prevention.js';

/** The version of the node view; templates written by users depend on it (bump on incompatible change). */
export const VIEW_VERSION = 1;

/** Where a BGP session comes from (`local-workload`: Calico v3.32's peering with a local workload). */
export type PeerKind = 'mesh' | 'global' | 'node' | 'local-workload';

/** One BGP neighbour of this node, with every BIRD statement already decided. */
export interface PeerView {
  readonly kind: PeerKind;
  /** What the peering was derived from, for comments: `host kube-node-1` or `peer_v4/10.0.0.1-150`. */
  readonly origin: string;
  /** Why no protocol is written (this node itself, or a node without an address), or null. */
  readonly skip: string | null;
  /** The BIRD protocol name, e.g. `Mesh_10_0_0_2` or `Global_10_0_0_9_port_1790`. */
  readonly name: string;
  readonly peerIp: string;
  /** The peer's port, 0 for BGP's default. */
  readonly port: number;
  readonly asNumber: string;
  /** Statements before the neighbor line (v3.32: `ttl security …;`, `multihop …;`, `local as …;`); empty in v3.17. */
  readonly before: readonly string[];
  /** The complete `neighbor ...;` statement. */
  readonly neighbor: string;
  /**
   * Further statements in Calico's order (v3.17: `rr client;`, `rr cluster id X;`, `password "...";`,
   * `next hop keep;`, or `passive on;` in the mesh; v3.32 adds source address, the import and
   * export filter blocks (one line each), timers, next hop and allow local as). A password line
   * holds a secret: never log it.
   */
  readonly options: readonly string[];
  /** Whether `options` holds a password statement. */
  readonly hasPassword: boolean;
  /** The BGPPeer resources that produced this peering (empty for the mesh). */
  readonly sources: readonly string[];
}

/** The node-to-node mesh section of one family (Calico v3.17 profile; v3.32 lists mesh peers among `bgp.peers`). */
export interface MeshView {
  /** `enabled`, `disabled`, or `route-reflector` (an RR node ignores the IPv6 mesh, as Calico does). */
  readonly state: 'enabled' | 'disabled' | 'route-reflector';
  /** `state` as flags, for templates (which only print). */
  readonly disabled: boolean;
  readonly routeReflector: boolean;
  readonly rrClusterId: string;
  readonly peers: readonly PeerView[];
}

/** The BGP part of a family's main file in the Calico v3.17 profile; absent when this node has no address in that family. */
export interface BgpView {
  readonly localAs: string;
  readonly sourceAddress: string;
  readonly mesh: MeshView;
  readonly globalPeers: readonly PeerView[];
  readonly nodePeers: readonly PeerView[];
}

/** An IPAM block affine to this node. */
export interface BlockView {
  readonly cidr: string;
  /** `confirmed`, `pending`, `pendingDeletion`, or '' (implicitly confirmed). */
  readonly state: string;
  /** Whether the block is exported as one aggregate (confirmed or implicitly confirmed). */
  readonly aggregate: boolean;
  /** Its statements in the `calico_aggr` function: accept the aggregate, reject what is inside it (empty unless `aggregate`). */
  readonly aggrStatements: readonly string[];
}

/** One IP pool's rule in the kernel programming filter: the statements inside `if ( net ~ cidr ) then { }`. */
export interface KernelPoolRule {
  readonly cidr: string;
  readonly statements: readonly string[];
}

/** A prefix with the community statements that `apply_communities` attaches to it. */
export interface CommunityRule {
  readonly cidr: string;
  readonly statements: readonly string[];
}

/** A BIRD string constant holding a password (`--passwords separate-file`). Holds a secret. */
export interface PasswordDefine {
  readonly symbol: string;
  readonly value: string;
}

/** The file names of one family. */
export interface FamilyFiles {
  readonly main: string;
  readonly aggr: string;
  readonly ipam: string;
  readonly passwords: string;
  readonly loop: string;
}

/** What the family view of every profile has: its files, its address, and its BGP sessions. */
export interface FamilyViewBase {
  readonly family: Family;
  readonly files: FamilyFiles;
  /**
   * The files the main file includes, in order: the one list of which optional files exist
   * (the passwords and loop files only when used; see NodeView.optionalFiles).
   */
  readonly includes: readonly string[];
  /** Service loop prevention: blackholes for the service ranges in their own kernel table. */
  readonly loopPrevention: LoopPreventionView;
  /** Password constants for the separate password file; empty when passwords are inline. */
  readonly passwordDefines: readonly PasswordDefine[];
  /** This node's address in the family, or null (then no BGP is configured for it). */
  readonly address: string | null;
  readonly routerId: string;
  /** Every BGP session the main file configures (skipped peers left out), in output order. */
  readonly sessions: readonly PeerView[];
}

/** Everything one BIRD daemon (bird or bird6) gets for this node, as Calico v3.17 renders it: the family view of the v3.17 profile (`NodeView317`). */
export interface FamilyView extends FamilyViewBase {
  readonly routerIdComment: string | null;
  readonly communityRules: readonly CommunityRule[];
  readonly bgp: BgpView | null;
  readonly blocks: readonly BlockView[];
  /** Whether the static protocol has any route (blocks or static routes); BIRD rejects an empty one. */
  readonly hasStaticRoutes: boolean;
  /** Service and configured routes: blackholed locally, exported to peers. */
  readonly staticRoutes: readonly string[];
  /**
   * Whether routes inside `staticRoutes` are exported only when this node originates them (not when
   * learned over BGP from another node): option `serviceRoutes: own`. False is Calico's behaviour.
   */
  readonly exportOwnServiceRoutesOnly: boolean;
  /** Pools whose routes are exported to peers, in key order (disabled pools too, as Calico does). */
  readonly exportPools: readonly string[];
  /** CIDRs never programmed into the kernel (service ranges). */
  readonly kernelRejects: readonly string[];
  readonly kernelPools: readonly KernelPoolRule[];
}

/** What the node view of every profile has. */
export interface NodeViewBase {
  readonly viewVersion: typeof VIEW_VERSION;
  /** The Calico release whose output this view reproduces: the shape of `ipv4` and `ipv6` follows it. */
  readonly calicoVersion: CalicoVersion;
  readonly nodeName: string;
  readonly routerId: string;
  readonly routerIdSource: 'node' | 'env' | 'hash';
  /** The debug statement for device, direct and BGP template, or null for none. */
  readonly debugLine: string | null;
  readonly ipv4: FamilyViewBase;
  readonly ipv6: FamilyViewBase;
  /**
   * Output files that exist only when a feature is on: a template whose output name is a key
   * here is rendered only when the value is true. Templates not listed always render.
   */
  readonly optionalFiles: Readonly<Record<string, boolean>>;
  /** What the Windows scripts (peerings.ps1, blocks.ps1) print. */
  readonly windows: WindowsView;
}

/**
 * The node view of the Calico v3.17 profile (`--calico-version 3.17`, `calicoVersion: "3.17"`):
 * `ipv4` and `ipv6` are `FamilyView`s. The input fields this profile renders, and those it leaves
 * out (with a warning), are listed in the schema's `x-bird-confd-profiles["3.17"]`.
 */
export interface NodeView317 extends NodeViewBase {
  readonly calicoVersion: '3.17';
  readonly listenPort: { readonly port: number; readonly scope: 'node' | 'global' } | null;
  readonly ipv4: FamilyView;
  readonly ipv6: FamilyView;
}

/**
 * The node view of the Calico v3.32 profile (`--calico-version 3.32`, the default;
 * `calicoVersion: "3.32"`): `ipv4` and `ipv6` are `FamilyView332`s. The input fields this profile
 * renders are listed in the schema's `x-bird-confd-profiles["3.32"]`.
 */
export interface NodeView332 extends NodeViewBase {
  readonly calicoVersion: '3.32';
  readonly ipv4: FamilyView332;
  readonly ipv6: FamilyView332;
}

/** The per-node view that templates print: every decision already made, in the shape of its profile, told apart by `calicoVersion`. */
export type NodeView = NodeView317 | NodeView332;
