import type { Diagnostic } from '../model/diagnostics.js';
import type { Snapshot } from '../model/snapshot.js';
import { parseIp, type Family } from './addresses.js';
import type { ClusterFacts, NodeInfo, PeerSpec } from './cluster.js';

/** One peering before it becomes BIRD text (Calico's peer_v4/peer_v6 value). */
export interface PeerRecord {
  readonly family: Family;
  readonly ip: string;
  readonly port: number;
  readonly asNumber: string;
  readonly rrClusterId: string;
  readonly keepNextHop: boolean;
  /** Holds a secret: never log it. */
  readonly password: string | null;
  readonly source: string;
}

/** This node's peerings: the global ones (every node has them) and its own, keyed as Calico keys them. */
export interface NodePeerings {
  readonly global: ReadonlyMap<string, PeerRecord>;
  readonly node: ReadonlyMap<string, PeerRecord>;
}

/** Options for password lookup. */
export interface PeeringOptions {
  /** The namespace BGP password Secrets are read from (env NAMESPACE, default kube-system). */
  readonly secretNamespace: string;
}

/** Calico's key for a peering: the IP, plus `-port` unless the port is 0 or 179. */
export function peerKey(ip: string, port: number): string {
  return port === 0 || port === 179 ? ip : `${ip}-${port}`;
}

/**
 * Computes the peerings of `nodeName` with Calico's three passes (global, node-specific, reverse),
 * first writer wins, and idle-peer suppression. BGPPeers are visited in name order, which makes
 * key collisions deterministic (Calico leaves them to map order).
 */
export function nodePeerings(facts: ClusterFacts, snapshot: Snapshot, nodeName: string, options: PeeringOptions, diagnostics: Diagnostic[]): NodePeerings {
  const global = new Map<string, PeerRecord>();
  const node = new Map<string, PeerRecord>();
  const passwords = new Map<string, string | null | undefined>();
  const password = (p: PeerSpec) => {
    if (!passwords.has(p.name)) passwords.set(p.name, resolvePassword(p, snapshot, options, diagnostics));
    return passwords.get(p.name);
  };
  // The shared records are used as they are unless a password is added (a route reflector's
  // thousand peers would otherwise be copied on every render).
  const withPassword = (r: PeerRecord, pw: string | null) => (r.password === pw ? r : { ...r, password: pw });
  const emitNode = (r: PeerRecord, pw: string | null) => {
    const key = peerKey(r.ip, r.port);
    if (!node.has(key) && !global.has(key)) node.set(key, withPassword(r, pw));
  };
  for (const p of facts.peers) {
    if (p.local.kind !== 'global') continue;
    const records = sidesOf(facts, p).forward;
    const pw = records.length ? password(p) : null;
    if (pw === undefined) continue;
    for (const r of records) {
      const key = peerKey(r.ip, r.port);
      if (!global.has(key)) global.set(key, withPassword(r, pw));
    }
  }
  for (const p of facts.peers) {
    if (p.local.kind === 'global' || !isLocal(facts, p, nodeName)) continue;
    const records = sidesOf(facts, p).forward;
    const pw = records.length ? password(p) : null;
    if (pw === undefined) continue;
    for (const r of records) emitNode(r, pw);
  }
  const self = facts.nodes.get(nodeName);
  for (const p of facts.peers) {
    if (!self || !isReverseLocal(facts, p, self)) continue;
    const records = sidesOf(facts, p).reverse;
    if (records.length === 0) continue;
    const pw = password(p);
    if (pw === undefined) continue;
    for (const r of records) emitNode(r, pw);
  }
  return { global, node };
}

/** What a BGPPeer means for the cluster as a whole, computed once per node list and shared by every node's view. */
interface PeerSides {
  /** The local side's nodes (every node for a global peer). */
  readonly local: readonly NodeInfo[];
  /** The forward records, without password. */
  readonly forward: readonly PeerRecord[];
  /** The local side's nodes as the records the remote side gets (the reverse sessions), without password. */
  readonly reverse: readonly PeerRecord[];
}

const sidesMemo = new WeakMap<readonly NodeInfo[], Map<PeerSpec, PeerSides>>();

function sidesOf(facts: ClusterFacts, p: PeerSpec): PeerSides {
  let byPeer = sidesMemo.get(facts.nodeList);
  if (!byPeer) sidesMemo.set(facts.nodeList, (byPeer = new Map()));
  let sides = byPeer.get(p);
  if (!sides) {
    // Lists over all nodes are built only for the BGPPeers a node takes part in, once per node list.
    let local: readonly NodeInfo[] | undefined;
    let forward: readonly PeerRecord[] | undefined;
    let reverse: readonly PeerRecord[] | undefined;
    sides = {
      get local() {
        return (local ??= localNodes(facts, p));
      },
      get forward() {
        return (forward ??= forwardRecords(facts, p));
      },
      get reverse() {
        return (reverse ??= this.local.flatMap((n) => nodeAsPeers(facts, n, p.name)));
      },
    };
    byPeer.set(p, sides);
  }
  return sides;
}

/** Whether `nodeName` is on the local side of a BGPPeer (a named node need not exist). */
export function isLocal(facts: ClusterFacts, p: PeerSpec, nodeName: string): boolean {
  if (p.local.kind === 'node') return p.local.node === nodeName;
  if (p.local.kind === 'global') return true;
  const n = facts.nodes.get(nodeName);
  return n !== undefined && p.local.selector.matches(n.labels);
}

/** Whether node `n` is on the remote side of a BGPPeer, and so gets reverse sessions. */
export function isReverseLocal(facts: ClusterFacts, p: PeerSpec, n: NodeInfo): boolean {
  const remote = p.remote;
  if (remote.kind === 'selector') return remote.selector.matches(n.labels);
  return nodeMatchesIpPortAndAs(facts, n, remote.ip, remote.asNumber, remote.port);
}

/** The local side's nodes; for the reverse pass a global peer's local side is every node. */
export function localNodes(facts: ClusterFacts, p: PeerSpec): NodeInfo[] {
  if (p.local.kind === 'global') return [...facts.nodeList];
  if (p.local.kind === 'node') {
    const n = facts.nodes.get(p.local.node);
    return n ? [n] : [];
  }
  const sel = p.local.selector;
  return facts.nodeList.filter((n) => sel.matches(n.labels));
}

/** The remote side's Calico nodes, which get the reverse sessions. */
export function reverseLocalNodes(facts: ClusterFacts, p: PeerSpec): NodeInfo[] {
  return facts.nodeList.filter((n) => isReverseLocal(facts, p, n));
}

/** The forward records of a BGPPeer (password attached later). */
function forwardRecords(facts: ClusterFacts, p: PeerSpec): PeerRecord[] {
  const remote = p.remote;
  if (remote.kind === 'selector') {
    return facts.nodeList.filter((n) => remote.selector.matches(n.labels)).flatMap((n) => nodeAsPeers(facts, n, p.name));
  }
  let port = remote.port;
  if (port === 0) {
    // A peerIP without port that is a Calico node peers with the port that node listens on.
    const match = nodesWithIpPortAndAs(facts, remote.ip, remote.asNumber, 0)[0];
    if (match) port = effectivePort(facts, match);
  }
  const family = parseIp(remote.ip)!.family;
  const keepNextHop = p.resource.spec.keepOriginalNextHop ?? false;
  return [{ family, ip: remote.ip, port, asNumber: remote.asNumber, rrClusterId: '', keepNextHop, password: null, source: p.name }];
}

/** A node's listen port: its own, else the global one, else 0 (BGP's default). */
export function effectivePort(facts: ClusterFacts, n: NodeInfo): number {
  return n.listenPort || facts.global.listenPort;
}

/** A node's AS: its own, else the global one. */
export function effectiveAs(facts: ClusterFacts, n: NodeInfo): string {
  return n.asNumber || facts.global.asNumber;
}

/** A Calico node as the peer records other nodes get for it, one per address family it has. */
function nodeAsPeers(facts: ClusterFacts, n: NodeInfo, source: string): PeerRecord[] {
  const base = { port: effectivePort(facts, n), asNumber: effectiveAs(facts, n), rrClusterId: n.rrClusterId, keepNextHop: false, password: null, source };
  const out: PeerRecord[] = [];
  if (n.ipv4) out.push({ ...base, family: 'ipv4', ip: n.ipv4 });
  if (n.ipv6) out.push({ ...base, family: 'ipv6', ip: n.ipv6 });
  return out;
}

/**
 * The Calico nodes at `ip` (normalized, unlike Calico's raw text match) with AS `as` and, when
 * `port` is set, listening on that port (0 and 179 both mean BGP's default).
 */
function nodesWithIpPortAndAs(facts: ClusterFacts, ip: string, as: string, port: number): NodeInfo[] {
  return facts.nodeList.filter((n) => nodeMatchesIpPortAndAs(facts, n, ip, as, port));
}

function nodeMatchesIpPortAndAs(facts: ClusterFacts, n: NodeInfo, ip: string, as: string, port: number): boolean {
  if (n.ipv4 !== ip && n.ipv6 !== ip) return false;
  if (effectiveAs(facts, n) !== as) return false;
  const listen = effectivePort(facts, n);
  return port === 0 || (listen === 179 ? 0 : listen) === (port === 179 ? 0 : port);
}

/**
 * The password of a BGPPeer: null when none is configured or its Secret/key is missing (a warning,
 * as in Calico); undefined when the value cannot be used, which leaves the BGPPeer out.
 */
function resolvePassword(p: PeerSpec, snapshot: Snapshot, options: PeeringOptions, diagnostics: Diagnostic[]): string | null | undefined {
  const ref = p.resource.spec.password?.secretKeyRef;
  if (!ref) return null;
  const object = `BGPPeer/${p.name}`;
  const where = `Secret ${plain(options.secretNamespace)}/${plain(ref.name)} key ${JSON.stringify(ref.key.slice(0, 253))}`;
  const secret = snapshot.get('Secret', ref.name, options.secretNamespace);
  const value = secret?.values[ref.key];
  if (value === undefined) {
    diagnostics.push({ severity: 'warning', object, field: 'spec.password.secretKeyRef', message: `${where} not found; peering without password` });
    return null;
  }
  const problem = passwordProblem(value);
  if (problem) {
    diagnostics.push({ severity: 'error', object, field: 'spec.password.secretKeyRef', message: `${where}: ${problem}; BGPPeer left out` });
    return undefined;
  }
  return value;
}

/** Why a password cannot go into a BIRD 1.6 string (which has no escapes), or null. */
export function passwordProblem(value: string): string | null {
  if (value.length === 0) return 'the password is empty';
  if (/["\n\r\0]/.test(value)) return 'the password contains a double quote, a line break or a NUL, which a BIRD string cannot hold';
  if (Buffer.byteLength(value) > 80) return 'the password is longer than 80 bytes, the TCP MD5 key limit';
  return null;
}

/** A name as it may appear in a diagnostic: as is when plain, else quoted and cut. */
function plain(name: string): string {
  return /^[\w.-]{1,253}$/.test(name) ? name : JSON.stringify(name.slice(0, 80));
}
