import type { Diagnostic } from '../model/diagnostics.js';
import type { Snapshot } from '../model/snapshot.js';
import { clusterFacts, computeNodeView, RenderStore, type ViewOptions } from '../render/index.js';
import { compareText } from '../model/sorted.js';
import type { Family } from '../render/addresses.js';
import type { PeerKind, PeerView } from '../render/view/view-types.js';

/** A Calico node in the picture. */
export interface TopologyNode {
  readonly name: string;
  readonly asNumber: string;
  readonly addresses: readonly string[];
  /** The route reflector cluster id, or '' for a plain node. */
  readonly rrClusterId: string;
}

/** A BGP speaker outside the cluster (a router or anything peered by IP that is no Calico node). */
export interface ExternalPeer {
  readonly ip: string;
  readonly asNumbers: readonly string[];
  readonly ports: readonly number[];
}

/** One end of a session: the node that configures it and the BIRD protocol it gets. */
export interface SessionEnd {
  readonly node: string;
  readonly protocol: string;
  readonly kind: PeerKind;
  /** Whether this end treats the other as a route reflector client. */
  readonly rrClient: boolean;
  /** From a status report: true Established, false not (or missing), null unknown. */
  readonly established: boolean | null;
}

/** One BGP session, counted once even though both ends configure it. */
export interface Session {
  readonly family: Family;
  /** `node:NAME` or `peer:IP`, ordered so that `a` <= `b`. */
  readonly a: string;
  readonly b: string;
  /** The ends that configure the session: two for node to node, one towards an external peer (or when one side is missing). */
  readonly ends: readonly SessionEnd[];
  /** Node to node, but only one side configures it. */
  readonly oneSided: boolean;
}

/** The peering topology of a whole cluster. */
export interface Topology {
  readonly nodes: readonly TopologyNode[];
  readonly externalPeers: readonly ExternalPeer[];
  readonly sessions: readonly Session[];
  readonly diagnostics: readonly Diagnostic[];
}

/** What a status report says about a node's sessions: protocol name -> Established or not. */
export type SessionStates = ReadonlyMap<string, ReadonlyMap<string, boolean>>;

/**
 * The sessions of every node, from each node's view, deduplicated between the two ends. Pure.
 * `states` (from `status --output json` of some nodes) marks which sessions are Established.
 */
export function clusterTopology(snapshot: Snapshot, options: ViewOptions = {}, states: SessionStates = new Map()): Topology {
  const store = new RenderStore();
  const facts = clusterFacts(snapshot, options, store);
  const diagnostics = new Map<string, Diagnostic>();
  const byIp = new Map<string, string>();
  for (const n of facts.nodeList) for (const ip of [n.ipv4, n.ipv6]) if (ip && !byIp.has(ip)) byIp.set(ip, n.name);
  const nodes: TopologyNode[] = [];
  const external = new Map<string, { as: Set<string>; ports: Set<number> }>();
  // Half sessions keyed by family and both ends, paired up below.
  const halves = new Map<string, { from: string; to: string; end: SessionEnd }[]>();
  for (const info of facts.nodeList) {
    const { view, diagnostics: d } = computeNodeView(snapshot, info.name, options, store);
    for (const x of d) diagnostics.set(JSON.stringify(x), x);
    nodes.push({ name: info.name, asNumber: info.asNumber || facts.global.asNumber, addresses: [info.ipv4, info.ipv6].filter(Boolean), rrClusterId: info.rrClusterId });
    if (!view) continue;
    for (const family of ['ipv4', 'ipv6'] as const) {
      for (const p of view[family].sessions) {
        const remoteNode = byIp.get(p.peerIp);
        const to = remoteNode ? `node:${remoteNode}` : `peer:${p.peerIp}`;
        if (!remoteNode) {
          const e = external.get(p.peerIp) ?? { as: new Set<string>(), ports: new Set<number>() };
          e.as.add(p.asNumber);
          if (p.port) e.ports.add(p.port);
          external.set(p.peerIp, e);
        }
        const from = `node:${info.name}`;
        const key = `${family}|${[from, to].sort().join('|')}`;
        const list = halves.get(key) ?? [];
        list.push({ from, to, end: sessionEnd(info.name, p, states) });
        halves.set(key, list);
      }
    }
  }
  const sessions: Session[] = [];
  for (const [key, list] of [...halves.entries()].sort(([x], [y]) => compareText(x, y))) {
    const [family, a, b] = key.split('|') as [Family, string, string];
    sessions.push(...pairUp(family, a, b, list));
  }
  const externalPeers = [...external.entries()]
    .sort(([x], [y]) => compareText(x, y))
    .map(([ip, e]) => ({ ip, asNumbers: [...e.as].sort(), ports: [...e.ports].sort((p, q) => p - q) }));
  return { nodes, externalPeers, sessions, diagnostics: [...diagnostics.values()] };
}

function sessionEnd(node: string, p: PeerView, states: SessionStates): SessionEnd {
  const known = states.get(node);
  return { node, protocol: p.name, kind: p.kind, rrClient: p.options.includes('rr client;'), established: known ? (known.get(p.name) ?? false) : null };
}

/**
 * Pairs the halves of node-to-node sessions: one from each side makes one session. Halves left
 * over (a node peers with another that does not peer back) are one-sided sessions.
 */
function pairUp(family: Family, a: string, b: string, list: readonly { from: string; to: string; end: SessionEnd }[]): Session[] {
  if (b.startsWith('peer:') || a.startsWith('peer:')) return list.map((h) => ({ family, a, b, ends: [h.end], oneSided: false }));
  const fromA = list.filter((h) => h.from === a && h.to === b).map((h) => h.end);
  const fromB = list.filter((h) => h.from === b && h.to === a).map((h) => h.end);
  const out: Session[] = [];
  for (let i = 0; i < Math.max(fromA.length, fromB.length); i++) {
    const ends = [fromA[i], fromB[i]].filter((e): e is SessionEnd => e !== undefined);
    out.push({ family, a, b, ends, oneSided: ends.length < 2 });
  }
  // A node listing itself (a peering with its own address) never reaches here: views skip it.
  return out;
}
