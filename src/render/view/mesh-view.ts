import type { Diagnostic } from '../../model/diagnostics.js';
import type { Family } from '../addresses.js';
import type { ClusterFacts, MeshEntry, NodeInfo } from '../facts/cluster.js';
import { effectiveAs, effectivePort } from '../facts/peerings.js';
import { familySlot, type RenderStore } from '../store.js';
import { neighborLine, protocolName } from './peers.js';
import type { MeshView, PeerView } from './view-types.js';

/** A node's two mesh peer views (active and passive side), with what they were built from. */
export interface MeshPeerViews {
  readonly ip: string;
  readonly asNumber: string;
  readonly port: number;
  readonly active: PeerView;
  readonly passive: PeerView;
}

const passiveOption: readonly string[] = Object.freeze(['passive on;']);
const noOptions: readonly string[] = Object.freeze([]);

/** The daemon renders one node; a preview renders each node once. A few are enough. */
const MESH_MEMO_NODES = 4;

/**
 * A node's mesh view. It is kept per mesh (the cluster's entries array, replaced whenever a node
 * changes) for the last few nodes rendered: after a change that leaves the mesh alone (a BGPPeer,
 * a Service), the same view and the same peer list come back without a pass over N nodes.
 */
export function meshView(store: RenderStore, facts: ClusterFacts, self: NodeInfo, family: Family, address: string, diagnostics: Diagnostic[]): MeshView {
  const rrClusterId = self.rrClusterId;
  // Calico quirk kept for parity: a route reflector drops its IPv6 mesh but keeps the IPv4 one.
  if (family === 'ipv6' && rrClusterId) return { state: 'route-reflector', disabled: false, routeReflector: true, rrClusterId, peers: [] };
  if (!facts.global.meshEnabled) return { state: 'disabled', disabled: true, routeReflector: false, rrClusterId, peers: [] };
  const entries = facts.mesh[family].entries;
  // A node that changes is a new NodeInfo in a new mesh: the node object and the entries say it all.
  const memo = store.meshViews[familySlot(family)];
  let byNode = memo.get(entries);
  const known = byNode?.get(self);
  if (known) {
    diagnostics.push(...known.diagnostics);
    return known.view;
  }
  const own: Diagnostic[] = [];
  const view: MeshView = { state: 'enabled', disabled: false, routeReflector: false, rrClusterId, peers: meshPeers(store, facts, entries, self, family, address, own) };
  diagnostics.push(...own);
  byNode ??= memo.set(entries, new Map());
  if (byNode.size >= MESH_MEMO_NODES) byNode.delete(byNode.keys().next().value!);
  byNode.set(self, { view, diagnostics: own });
  return view;
}

function meshPeers(store: RenderStore, facts: ClusterFacts, entries: readonly MeshEntry[], self: NodeInfo, family: Family, address: string, diagnostics: Diagnostic[]): PeerView[] {
  const peers: PeerView[] = [];
  for (const e of entries) {
    const views = meshPeerViews(store, facts, e.info, e.ip, family);
    if (e.ip === address) {
      if (e.node === self.name) peers.push({ ...views.active, skip: 'this node', neighbor: '', options: [] });
      continue;
    }
    if (e.duplicateOf) {
      // Two nodes with one address would give two protocols of one name, which BIRD rejects.
      diagnostics.push({ severity: 'warning', object: `Node/${e.node}`, message: `has the same ${family} address as Node/${e.duplicateOf}; no mesh session to it` });
      continue;
    }
    // Exactly one side of each pair is passive: the one whose address sorts lower as text (Calico's rule).
    peers.push(e.ip > address ? views.passive : views.active);
  }
  return peers;
}

/** The two mesh peer views of a node, kept while the node and its effective AS and port are unchanged. */
function meshPeerViews(store: RenderStore, facts: ClusterFacts, n: NodeInfo, ip: string, family: Family): MeshPeerViews {
  const slot = familySlot(family);
  const port = effectivePort(facts, n);
  const asNumber = effectiveAs(facts, n);
  let slots = store.meshPeers.get(n);
  const known = slots?.[slot];
  if (known && known.ip === ip && known.asNumber === asNumber && known.port === port) return known;
  if (!slots) store.meshPeers.set(n, (slots = [undefined, undefined]));
  const active: PeerView = {
    kind: 'mesh', origin: `node ${n.name}`, skip: null, name: protocolName('mesh', ip, port), peerIp: ip, port, asNumber, before: noOptions,
    neighbor: neighborLine(ip, port, asNumber), options: noOptions, hasPassword: false, sources: noOptions,
  };
  const views = { ip, asNumber, port, active, passive: { ...active, options: passiveOption } };
  slots[slot] = views;
  return views;
}
