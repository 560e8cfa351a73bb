import type { Diagnostic } from '../../model/diagnostics.js';
import type { Snapshot } from '../../model/snapshot.js';
import { parseIp, type Family } from '../addresses.js';
import type { Selector } from '../selector.js';
import { Latest, type RenderStore } from '../store.js';
import { localWorkloadPeer } from '../../model/workload-endpoint-status.js';
import type { ClusterFacts, NodeInfo, PeerSpec } from './cluster.js';
import { NodeLabelIndex } from './node-index.js';

/**
 * The per-session settings Calico v3.32 carries in a peer record (its `peer_v4` value); a v3.17
 * record has the defaults (nothing set), since v3.17 knows none of them.
 */
export interface PeerSettings {
  /** `localASNumber`, '' when not set. */
  readonly localAs: string;
  readonly sourceAddress: 'UseNodeIP' | 'None';
  /** `maxRestartTime` and `keepaliveTime` in whole seconds as text, '' when not set. */
  readonly restartTime: string;
  readonly keepaliveTime: string;
  readonly numAllowLocalAs: number;
  readonly ttlSecurity: number;
  /** `reachableBy`, '' when not set. */
  readonly reachableBy: string;
  /** BGPFilter names, in order. */
  readonly filters: readonly string[];
  /** `nextHopMode`, '' when not set. */
  readonly nextHopMode: '' | 'Auto' | 'Self' | 'Keep';
  /** A local workload peering: passive, and named `Local_Workload_*`. */
  readonly localWorkload: boolean;
  /** The peer address is a Calico node's (peerIP peerings only): Global ones may then be passive. */
  readonly calicoNode: boolean;
}

/** The settings of a record that sets nothing (every v3.17 record). */
export const noSettings: PeerSettings = Object.freeze({
  localAs: '', sourceAddress: 'UseNodeIP', restartTime: '', keepaliveTime: '', numAllowLocalAs: 0, ttlSecurity: 0, reachableBy: '', filters: [], nextHopMode: '', localWorkload: false, calicoNode: false,
});

/** One peering before it becomes BIRD text (Calico's peer_v4/peer_v6 value). */
export interface PeerRecord {
  readonly family: Family;
  readonly ip: string;
  readonly port: number;
  /** Calico's key for the peering (`peerKey` of ip and port), made once with the record. */
  readonly key: string;
  readonly asNumber: string;
  readonly rrClusterId: string;
  readonly keepNextHop: boolean;
  /** Holds a secret: never log it. */
  readonly password: string | null;
  readonly source: string;
  readonly settings: PeerSettings;
}

/** How a record came to be: a BGPPeer's peerIP, a node it selects, or the reverse of either. */
export type RecordOrigin = 'peer-ip' | 'selector' | 'reverse';

/**
 * Where the Calico releases differ in computing peerings; each profile supplies its rules, so the
 * passes themselves are one code.
 */
export interface PeeringRules {
  /** The settings a record of this origin carries (the BGPPeer's own fields, or none). */
  readonly settings: (facts: ClusterFacts, p: PeerSpec, origin: RecordOrigin) => PeerSettings;
  /** Whether the record keeps the original next hop (the legacy `keepOriginalNextHop`). */
  readonly keepNextHop: (p: PeerSpec, origin: RecordOrigin) => boolean;
  /** Whether the BGPPeer gives the nodes it selects reverse sessions at all. */
  readonly reverse: (p: PeerSpec) => boolean;
  /** The families of the reverse records of a peerIP BGPPeer (a selector's give every family the node has). */
  readonly reverseFamiliesOfIp: (p: PeerSpec) => readonly Family[];
  /** Local workload peerings (BGPPeers with localWorkloadSelector) are rendered. */
  readonly localWorkloads: boolean;
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

/**
 * A peer record with its key, its fields always made in one order: a route reflector's view
 * reads a thousand records per family, and records of one shape keep those reads fast.
 */
export function peerRecord(r: Omit<PeerRecord, 'key'>): PeerRecord {
  return {
    family: r.family, ip: r.ip, port: r.port, key: peerKey(r.ip, r.port), asNumber: r.asNumber, rrClusterId: r.rrClusterId,
    keepNextHop: r.keepNextHop, password: r.password, source: r.source, settings: r.settings,
  };
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
export function nodePeerings(store: RenderStore, facts: ClusterFacts, snapshot: Snapshot, nodeName: string, options: PeeringOptions, rules: PeeringRules, diagnostics: Diagnostic[]): NodePeerings {
  const global = new Map<string, PeerRecord>();
  const node = new Map<string, PeerRecord>();
  const passwords = new Map<string, string | null | undefined>();
  const password = (p: PeerSpec) => {
    if (!passwords.has(p.name)) passwords.set(p.name, resolvePassword(p, snapshot, options, diagnostics));
    return passwords.get(p.name);
  };
  // The shared records are used as they are unless a password is added (a route reflector's
  // thousand peers would otherwise be copied on every render).
  const withPassword = (r: PeerRecord, pw: string | null) => (r.password === pw ? r : peerRecord({ ...r, password: pw }));
  const emitNode = (r: PeerRecord, pw: string | null) => {
    if (!node.has(r.key) && !global.has(r.key)) node.set(r.key, withPassword(r, pw));
  };
  const forward = (p: PeerSpec) => {
    const records = p.remote.kind === 'local-workload' ? localWorkloadRecords(facts, snapshot, p, rules) : sidesOf(store, facts, p, rules).forward;
    if (records.length === 0 && p.remote.kind === 'ip' && !p.remote.asNumber) {
      diagnostics.push({ severity: 'error', object: `BGPPeer/${p.name}`, field: 'spec.asNumber', message: `required with spec.peerIP unless ${p.remote.ip} is a Calico node (whose AS is then used); no session to it` });
    }
    return records;
  };
  for (const p of facts.peers) {
    if (p.local.kind !== 'global') continue;
    const records = forward(p);
    // Local workload peerings carry no password (v3.32 leaves the BGPPeer's settings out).
    const pw = records.length && p.remote.kind !== 'local-workload' ? password(p) : null;
    if (pw === undefined) continue;
    for (const r of records) if (!global.has(r.key)) global.set(r.key, withPassword(r, pw));
  }
  // The node's facts, looked up once (each BGPPeer's selector is matched against its labels), and
  // in a store that renders every node, the BGPPeers it takes part in, found once for all nodes.
  const self = facts.nodes.get(nodeName);
  const member = self && store.rendersEveryNode ? (membership(store, facts).get(self.name) ?? noMembership) : null;
  for (const p of member?.local ?? facts.peers) {
    if (p.local.kind === 'global' || (!member && !isLocal(facts, p, self ?? nodeName))) continue;
    const records = forward(p);
    const pw = records.length && p.remote.kind !== 'local-workload' ? password(p) : null;
    if (pw === undefined) continue;
    for (const r of records) emitNode(r, pw);
  }
  for (const p of member?.reverse ?? facts.peers) {
    if (!self || !rules.reverse(p) || (!member && !isReverseLocal(facts, p, self))) continue;
    const records = sidesOf(store, facts, p, rules).reverse;
    if (records.length === 0) continue;
    const pw = password(p);
    if (pw === undefined) continue;
    for (const r of records) emitNode(r, pw);
  }
  return { global, node };
}

const bothFamilies: readonly Family[] = Object.freeze(['ipv4', 'ipv6']);

/** The BGPPeers (not global ones) a node is on the local side of, and those it is on the remote side of, each in name order. */
export interface Membership {
  readonly local: readonly PeerSpec[];
  readonly reverse: readonly PeerSpec[];
}

const noMembership: Membership = Object.freeze({ local: [], reverse: [] });

/** The label index of a store's node list, for a store that renders every node (none for others). */
function labelIndex(store: RenderStore, facts: ClusterFacts): NodeLabelIndex | undefined {
  if (!store.rendersEveryNode) return undefined;
  return store.labelIndexes.get(facts.nodeList) ?? store.labelIndexes.set(facts.nodeList, new NodeLabelIndex(facts.nodeList));
}

/** Each node's BGPPeers by node name, once per node list and BGPPeer list (a store that renders every node). */
function membership(store: RenderStore, facts: ClusterFacts): ReadonlyMap<string, Membership> {
  const byNodes = store.memberships.get(facts.peers) ?? store.memberships.set(facts.peers, new Latest());
  let out = byNodes.get(facts.nodeList);
  if (out) return out;
  const index = labelIndex(store, facts);
  const map = new Map<string, { local: PeerSpec[]; reverse: PeerSpec[] }>();
  const entry = (n: NodeInfo) => {
    let e = map.get(n.name);
    if (!e) map.set(n.name, (e = { local: [], reverse: [] }));
    return e;
  };
  for (const p of facts.peers) {
    if (p.local.kind !== 'global') for (const n of localNodes(facts, p, index)) entry(n).local.push(p);
    for (const n of reverseLocalNodes(facts, p, index)) entry(n).reverse.push(p);
  }
  byNodes.set(facts.nodeList, (out = map));
  return out;
}

/** The local workload records of a BGPPeer: one per family of each workload whose status names it. */
function localWorkloadRecords(facts: ClusterFacts, snapshot: Snapshot, p: PeerSpec, rules: PeeringRules): PeerRecord[] {
  if (!rules.localWorkloads || p.remote.kind !== 'local-workload') return [];
  const out: PeerRecord[] = [];
  // The BGPPeer's local AS and filters apply; its other session settings do not (as v3.32).
  const settings = { ...rules.settings(facts, p, 'peer-ip'), sourceAddress: 'None' as const, restartTime: '', keepaliveTime: '', numAllowLocalAs: 0, ttlSecurity: 0, reachableBy: '', nextHopMode: '' as const, localWorkload: true, calicoNode: false };
  for (const status of snapshot.list('WorkloadEndpointStatus')) {
    const peer = localWorkloadPeer(status);
    if ('skipped' in peer || peer.bgpPeerName !== p.name) continue;
    for (const text of [peer.ipv4, peer.ipv6]) {
      const ip = text === null ? null : parseIp(text);
      if (ip) out.push(peerRecord({ family: ip.family, ip: ip.text, port: 0, asNumber: p.remote.asNumber, rrClusterId: '', keepNextHop: false, password: null, source: p.name, settings }));
    }
  }
  return out;
}

/** What a BGPPeer means for the cluster as a whole, computed once per node list and shared by every node's view. */
export interface PeerSides {
  /** The local side's nodes (every node for a global peer). */
  readonly local: readonly NodeInfo[];
  /** The forward records, without password. */
  readonly forward: readonly PeerRecord[];
  /** The local side's nodes as the records the remote side gets (the reverse sessions), without password. */
  readonly reverse: readonly PeerRecord[];
}

function sidesOf(store: RenderStore, facts: ClusterFacts, p: PeerSpec, rules: PeeringRules): PeerSides {
  const byPeer = store.peerSides.get(facts.nodeList) ?? store.peerSides.set(facts.nodeList, new Map());
  let sides = byPeer.get(p);
  if (!sides) byPeer.set(p, (sides = new LazySides(store, facts, p, rules)));
  return sides;
}

/**
 * A BGPPeer's sides, each list over all nodes built when first read: only for the BGPPeers a node
 * takes part in, once per node list. Getters of a class, not closures in a literal (see `withWindows`).
 */
class LazySides implements PeerSides {
  private localNodes: readonly NodeInfo[] | undefined;
  private forwardRecords: readonly PeerRecord[] | undefined;
  private reverseRecords: readonly PeerRecord[] | undefined;

  constructor(private readonly store: RenderStore, private readonly facts: ClusterFacts, private readonly peer: PeerSpec, private readonly rules: PeeringRules) {}

  get local(): readonly NodeInfo[] {
    return (this.localNodes ??= localNodes(this.facts, this.peer, labelIndex(this.store, this.facts)));
  }

  get forward(): readonly PeerRecord[] {
    return (this.forwardRecords ??= forwardRecords(this.facts, this.peer, this.rules, labelIndex(this.store, this.facts)));
  }

  get reverse(): readonly PeerRecord[] {
    return (this.reverseRecords ??= reverseRecords(this.facts, this.peer, this.rules, this.local));
  }
}

/** The reverse records of a BGPPeer: its local side's nodes, as the nodes it selects peer with them. */
function reverseRecords(facts: ClusterFacts, p: PeerSpec, rules: PeeringRules, local: readonly NodeInfo[]): PeerRecord[] {
  const families = p.remote.kind === 'ip' ? rules.reverseFamiliesOfIp(p) : bothFamilies;
  const base = { settings: rules.settings(facts, p, 'reverse'), keepNextHop: rules.keepNextHop(p, 'reverse') };
  return local.flatMap((n) => nodeAsPeers(facts, n, p.name, families, base));
}

/** Whether a node (by name, or its facts) is on the local side of a BGPPeer (a named node need not exist). */
export function isLocal(facts: ClusterFacts, p: PeerSpec, node: string | NodeInfo): boolean {
  const name = typeof node === 'string' ? node : node.name;
  if (p.local.kind === 'node') return p.local.node === name;
  if (p.local.kind === 'global') return true;
  const n = typeof node === 'string' ? facts.nodes.get(node) : node;
  return n !== undefined && p.local.selector.matches(n.labels);
}

/** Whether node `n` is on the remote side of a BGPPeer, and so gets reverse sessions. */
export function isReverseLocal(facts: ClusterFacts, p: PeerSpec, n: NodeInfo): boolean {
  const remote = p.remote;
  if (remote.kind === 'local-workload') return false;
  if (remote.kind === 'selector') return remote.selector.matches(n.labels);
  return nodeMatchesIpPortAndAs(facts, n, remote.ip, remote.asNumber, remote.port);
}

/** The local side's nodes; for the reverse pass a global peer's local side is every node. `index`, when given, is of `facts.nodeList`. */
export function localNodes(facts: ClusterFacts, p: PeerSpec, index?: NodeLabelIndex): NodeInfo[] {
  if (p.local.kind === 'global') return [...facts.nodeList];
  if (p.local.kind === 'node') {
    const n = facts.nodes.get(p.local.node);
    return n ? [n] : [];
  }
  return selectNodes(facts, p.local.selector, index);
}

/** The remote side's Calico nodes, which get the reverse sessions. */
export function reverseLocalNodes(facts: ClusterFacts, p: PeerSpec, index?: NodeLabelIndex): NodeInfo[] {
  if (p.remote.kind === 'selector') return selectNodes(facts, p.remote.selector, index);
  return facts.nodeList.filter((n) => isReverseLocal(facts, p, n));
}

/** The nodes a selector matches, in node-list order. */
function selectNodes(facts: ClusterFacts, selector: Selector, index: NodeLabelIndex | undefined): NodeInfo[] {
  return index ? index.select(selector) : facts.nodeList.filter((n) => selector.matches(n.labels));
}

/** The forward records of a peerIP or selector BGPPeer (password attached later). */
function forwardRecords(facts: ClusterFacts, p: PeerSpec, rules: PeeringRules, index: NodeLabelIndex | undefined): PeerRecord[] {
  const remote = p.remote;
  if (remote.kind === 'local-workload') return [];
  if (remote.kind === 'selector') {
    const base = { settings: rules.settings(facts, p, 'selector'), keepNextHop: rules.keepNextHop(p, 'selector') };
    return selectNodes(facts, remote.selector, index).flatMap((n) => nodeAsPeers(facts, n, p.name, bothFamilies, base));
  }
  // A peerIP that is a Calico node peers with the port that node listens on (when none is given),
  // and, without an AS of its own, with that node's AS (Calico writes `as 0`, which BIRD refuses).
  const match = nodesWithIpPortAndAs(facts, remote.ip, remote.asNumber, remote.port)[0];
  const port = remote.port || (match ? effectivePort(facts, match) : 0);
  const asNumber = remote.asNumber || (match ? effectiveAs(facts, match) : '');
  if (!asNumber) return [];
  const family = parseIp(remote.ip)!.family;
  return [peerRecord({ family, ip: remote.ip, port, asNumber, rrClusterId: '', keepNextHop: rules.keepNextHop(p, 'peer-ip'), password: null, source: p.name, settings: rules.settings(facts, p, 'peer-ip') })];
}

/** A node's listen port: its own, else the global one, else 0 (BGP's default). */
export function effectivePort(facts: ClusterFacts, n: NodeInfo): number {
  return n.listenPort || facts.global.listenPort;
}

/** A node's AS: its own, else the global one. */
export function effectiveAs(facts: ClusterFacts, n: NodeInfo): string {
  return n.asNumber || facts.global.asNumber;
}

/** A Calico node as the peer records other nodes get for it, one per address family it has (of `families`). */
function nodeAsPeers(facts: ClusterFacts, n: NodeInfo, source: string, families: readonly Family[], extra: Pick<PeerRecord, 'settings' | 'keepNextHop'>): PeerRecord[] {
  const base = { port: effectivePort(facts, n), asNumber: effectiveAs(facts, n), rrClusterId: n.rrClusterId, password: null, source, ...extra };
  const out: PeerRecord[] = [];
  if (n.ipv4 && families.includes('ipv4')) out.push(peerRecord({ ...base, family: 'ipv4', ip: n.ipv4 }));
  if (n.ipv6 && families.includes('ipv6')) out.push(peerRecord({ ...base, family: 'ipv6', ip: n.ipv6 }));
  return out;
}

/** The v3.17 rules: only a peerIP BGPPeer's keepOriginalNextHop; reverse sessions in every family. */
export const peeringRules317: PeeringRules = {
  settings: () => noSettings,
  keepNextHop: (p, origin) => origin === 'peer-ip' && (p.resource.spec.keepOriginalNextHop ?? false),
  reverse: () => true,
  reverseFamiliesOfIp: () => bothFamilies,
  localWorkloads: false,
};

/**
 * The Calico nodes at `ip` (normalized, unlike Calico's raw text match) with AS `as` and, when
 * `port` is set, listening on that port (0 and 179 both mean BGP's default).
 */
function nodesWithIpPortAndAs(facts: ClusterFacts, ip: string, as: string, port: number): NodeInfo[] {
  return facts.nodeList.filter((n) => nodeMatchesIpPortAndAs(facts, n, ip, as, port));
}

function nodeMatchesIpPortAndAs(facts: ClusterFacts, n: NodeInfo, ip: string, as: string, port: number): boolean {
  if (n.ipv4 !== ip && n.ipv6 !== ip) return false;
  // A BGPPeer without AS means the global AS here, as in Calico.
  if (effectiveAs(facts, n) !== (as || facts.global.asNumber)) return false;
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
