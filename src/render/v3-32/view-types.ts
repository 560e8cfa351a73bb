import type { BlockView, CommunityRule, FamilyViewBase, PeerView } from '../view/view-types.js';

/** The BGP part of a family's main file in the Calico v3.32 profile; absent when this node has no address in that family. */
export interface BgpView332 {
  /** This node's AS (its own, else the global one): the template's `local as`. */
  readonly localAs: string;
  /** The statements of `template bgp bgp_template` (no multihop, filters or source address: those are per peer). */
  readonly templateStatements: readonly string[];
  /** The BGPFilter section: one `function` per filter, direction and family with rules (lines, unindented). */
  readonly filterLines: readonly string[];
  /** Every peer (mesh, global, node-specific, local workload), one list sorted by protocol name. */
  readonly peers: readonly PeerView[];
}

/** Everything one BIRD daemon (bird or bird6) gets for this node, as Calico v3.32 renders it: the family view of the v3.32 profile (`NodeView332`). */
export interface FamilyView332 extends FamilyViewBase {
  /** Rules of `apply_communities`: per prefix, the community statements (values sorted as text). */
  readonly communityRules: readonly CommunityRule[];
  /** `listen bgp [address A] [port N];`, or null (printed also when the family has no address). */
  readonly listen: string | null;
  /** The direct protocol's `interface …;` statement (ignored interfaces first). */
  readonly directInterfaces: string;
  readonly bgp: BgpView332 | null;
  /** The `protocol static` routes: blocks (not /32 or /128), service routes, routes to peers' `reachableBy` gateways. */
  readonly staticRoutes: readonly string[];
  /** This node's blocks (pending ones dropped), with their `calico_aggr` statements. */
  readonly blocks: readonly BlockView[];
  /** The body of `function calico_export_to_bgp_peers(bool internal_peer)`. */
  readonly exportStatements: readonly string[];
  /** The body of `filter calico_kernel_programming`, before its final `accept;`. */
  readonly kernelStatements: readonly string[];
}
