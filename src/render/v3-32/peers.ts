import type { Diagnostic } from '../../model/diagnostics.js';
import { compareText } from '../../model/sorted.js';
import { ipToSymbol, type Family } from '../addresses.js';
import type { ClusterFacts, NodeInfo } from '../facts/cluster.js';
import { effectivePort, type NodePeerings, type PeerRecord } from '../facts/peerings.js';
import { neighborLine } from '../view/peers.js';
import type { PeerKind, PeerView } from '../view/view-types.js';
import type { Direction, FilterFunctions } from './filters.js';
import type { Settings332 } from './settings.js';
import { familySlot, type RenderStore } from '../store.js';

/** What every peer block of one family depends on besides its own record. */
export interface PeerContext {
  readonly family: Family;
  /** This node's address in the family. */
  readonly address: string;
  /** The statement that makes this address the session's source. */
  readonly sourceStatement: string;
  /** This node's AS (its own, else the global one). */
  readonly nodeAs: string;
  readonly ownRr: string;
  /** What a peer of this node's route reflector cluster gets (when this node is a reflector). */
  readonly rrClientStatements: readonly string[];
  readonly settings: Settings332;
  readonly filters: FilterFunctions;
  readonly password: (value: string) => string;
  readonly diagnostics: Diagnostic[];
  readonly store: RenderStore;
  /** What every peer view of this family depends on besides its record: a view kept in the store under another key is stale. */
  readonly viewKey: string;
  /** The filter blocks made so far, by their calls and same-AS flag (most peers of a node share them). */
  readonly filterBlocks: Map<string, readonly string[]>;
  /** Statement lists that many peers of the node have alike, per filter blocks: see `sharedOptions`. */
  readonly sharedOptions: Map<readonly string[], (readonly string[] | undefined)[]>;
}

/** The import and export blocks of a peer, shared by every peer of the family with the same calls and same-AS flag. */
function filterBlocks(ctx: PeerContext, importCalls: readonly string[], exportCalls: readonly string[], sameAs: boolean): readonly string[] {
  const key = importCalls.length === 0 && exportCalls.length === 0 ? `${sameAs}` : `${importCalls.join(' ')}|${exportCalls.join(' ')}|${sameAs}`;
  let lines = ctx.filterBlocks.get(key);
  if (!lines) ctx.filterBlocks.set(key, (lines = [...importFilter(ctx, importCalls), ...exportFilter(ctx, exportCalls, sameAs)]));
  return lines;
}

/** What a peer sets of its own, in Calico's order around the route reflector lines; null when nothing. */
interface OwnStatements {
  /** Timers: after `passive on;`, before the route reflector lines. */
  readonly early: readonly string[];
  /** Password, next hop, allowed local AS: after the route reflector lines. */
  readonly late: readonly string[];
}

/**
 * The statements after a peer's neighbor line (R19-R27 order): the source address, the filter
 * blocks, `passive on;`, the peer's timers, the route reflector lines, then its password, next
 * hop and allowed local AS. Most of a node's peers set nothing of their own and so have one of a
 * few lists, each made once per node and shared (frozen) by those peers: a route reflector's
 * thousand peers then hold one list, and its text (the `lines` helper keeps the text of a frozen
 * list) is made once.
 */
function statements(ctx: PeerContext, block: readonly string[], source: boolean, passive: boolean, rrClient: boolean, own: OwnStatements | null): readonly string[] {
  if (own !== null) return composed(ctx, block, source, passive, rrClient, own);
  let slots = ctx.sharedOptions.get(block);
  if (!slots) ctx.sharedOptions.set(block, (slots = []));
  const slot = (source ? 1 : 0) + (passive ? 2 : 0) + (rrClient ? 4 : 0);
  return (slots[slot] ??= Object.freeze(composed(ctx, block, source, passive, rrClient, null)));
}

/** The statements of `statements`, in their order. */
function composed(ctx: PeerContext, block: readonly string[], source: boolean, passive: boolean, rrClient: boolean, own: OwnStatements | null): string[] {
  return [...(source ? [ctx.sourceStatement] : []), ...block, ...(passive ? ['passive on;'] : []), ...(own?.early ?? []), ...(rrClient ? ctx.rrClientStatements : []), ...(own?.late ?? [])];
}

/** The statements a record's peer sets of its own (null for most). */
function ownStatements(ctx: PeerContext, r: PeerRecord, sameAs: boolean): OwnStatements | null {
  const s = r.settings;
  // The lists are made only when something goes in them (most of a route reflector's peers set nothing).
  let early: string[] | null = null;
  if (s.restartTime) (early ??= []).push(`graceful restart time ${s.restartTime};`);
  if (s.keepaliveTime) (early ??= []).push(`keepalive time ${s.keepaliveTime};`);
  let late: string[] | null = null;
  if (r.password) (late ??= []).push(ctx.password(r.password));
  if (s.nextHopMode === 'Keep' || (!s.nextHopMode && r.keepNextHop && !sameAs)) (late ??= []).push('next hop keep;');
  if (s.nextHopMode === 'Self') (late ??= []).push('next hop self;');
  if (s.numAllowLocalAs > 0) (late ??= []).push(`allow local as ${s.numAllowLocalAs};`);
  return early !== null || late !== null ? { early: early ?? [], late: late ?? [] } : null;
}

/** The import block's lines (R19): filter calls, then routes of elevated priority win over local ones. */
function importFilter(ctx: PeerContext, calls: readonly string[]): string[] {
  const t = 2147483647 - ctx.settings.priority[ctx.family];
  return ['import filter {', ...calls.map((c) => `  ${c}`), `  if (defined(bgp_local_pref)&&(bgp_local_pref > ${t})) then`, '    preference = 200;', '  accept;', '};'];
}

/** The export block's lines (R20): route priority carried in the local preference, filter calls, Calico's export function. */
function exportFilter(ctx: PeerContext, calls: readonly string[], sameAs: boolean): string[] {
  return [
    'export filter {',
    '  if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {',
    '    krt_metric = 2147483647 - bgp_local_pref;',
    '  } else {',
    `    if (!defined(krt_metric)) then { krt_metric = ${ctx.settings.priority[ctx.family]}; }`,
    '    bgp_local_pref = 2147483647 - krt_metric;',
    '  }',
    ...calls.map((c) => `  ${c}`),
    `  calico_export_to_bgp_peers(${sameAs});`,
    '  reject;',
    '};  # Only want to export routes for workloads.',
  ];
}

/** The statement that makes `address` a session's source. */
export const sourceLine = (address: string) => `source address ${address};  # The local address we use for the TCP connection`;

const noCalls: readonly string[] = Object.freeze([]);

/**
 * The mesh peers of one family (R17): none on a route reflector, none with a route reflector.
 * bird-confd takes a node without its own AS at the global AS (Calico v3.32 takes this node's
 * AS there, quirk V1, so that two ends with their own AS numbers disagree).
 */
export function meshPeers(ctx: PeerContext, facts: ClusterFacts, self: NodeInfo): readonly PeerView[] {
  if (self.rrClusterId || !facts.global.meshEnabled) return [];
  const entries = facts.mesh[ctx.family].entries;
  const password = ctx.settings.meshPassword ? ctx.password(ctx.settings.meshPassword) : '';
  // What every mesh peer of this node depends on besides its own node: kept while the mesh (the
  // entries array, new after any node change) and this are the same, the sorted list is reused.
  const viewer = `${self.name}|${ctx.viewKey}|${ctx.settings.meshRestartTime}|${password}`;
  const keep = ctx.store.keepsNodeViews;
  const memo = ctx.store.meshPeers332[familySlot(ctx.family)];
  const known = keep ? memo.get(entries) : undefined;
  if (known?.viewer === viewer) return known.peers;
  // Made at its full length and cut to what it holds (a mesh's list grown by pushes is allocated
  // about three times over, on every change of any node).
  const out: PeerView[] = new Array(entries.length);
  let n = 0;
  const views = ctx.store.meshPeerViews332[familySlot(ctx.family)];
  for (const e of entries) {
    if (e.ip === ctx.address || e.info.rrClusterId || e.duplicateOf) continue;
    // Each view is kept per node object, so after a change of another node it is the same object,
    // and its text is not made again.
    const kept = views.get(e.info);
    if (kept && kept.made === viewer && kept.view.peerIp === e.ip && kept.view.port === effectivePort(facts, e.info) && kept.view.asNumber === (e.info.asNumber || facts.global.asNumber)) out[n++] = kept.view;
    else {
      const view = meshPeer(ctx, facts, e.info, e.ip, password);
      if (keep) views.set(e.info, { made: viewer, view });
      out[n++] = view;
    }
  }
  out.length = n;
  const peers = sortedPeers(out);
  if (keep) memo.set(entries, { viewer, peers });
  return peers;
}

function meshPeer(ctx: PeerContext, facts: ClusterFacts, info: NodeInfo, ip: string, password: string): PeerView {
  const port = effectivePort(facts, info);
  const asNumber = info.asNumber || facts.global.asNumber;
  const block = filterBlocks(ctx, noCalls, noCalls, asNumber === ctx.nodeAs);
  const restart = ctx.settings.meshRestartTime;
  const own = restart || password ? { early: restart ? [`graceful restart time ${restart};`] : [], late: password ? [password] : [] } : null;
  const options = statements(ctx, block, true, ip > ctx.address, false, own);
  return {
    kind: 'mesh', origin: `node ${info.name}`, skip: null, name: `Mesh_${ipToSymbol(ip)}`, peerIp: ip, port, asNumber,
    before: [], neighbor: neighborLine(ip, port, asNumber), options, hasPassword: password !== '', sources: [],
  };
}

/** The global, node-specific and local workload peers of one family (R18-R27), skipping this node's own address. */
export function recordPeers(ctx: PeerContext, peerings: NodePeerings): PeerView[] {
  const out: PeerView[] = [];
  const add = (kind: PeerKind, records: ReadonlyMap<string, PeerRecord>) => {
    for (const r of records.values()) {
      if (r.family !== ctx.family || r.ip === ctx.address) continue;
      out.push(keptPeer(ctx, r.settings.localWorkload ? 'local-workload' : kind, r.key, r));
    }
  };
  add('global', peerings.global);
  add('node', peerings.node);
  return out;
}

const prefixes: Record<PeerKind, string> = { mesh: 'Mesh', global: 'Global', node: 'Node', 'local-workload': 'Local_Workload' };

/** A record's peer view, kept per record for what decides it (the password statement included) when the store keeps node views. */
function keptPeer(ctx: PeerContext, kind: PeerKind, key: string, r: PeerRecord): PeerView {
  if (!ctx.store.keepsNodeViews) return recordPeer(ctx, kind, key, r);
  const made = `${kind}|${key}|${ctx.viewKey}|${r.password ? ctx.password(r.password) : ''}`;
  const known = ctx.store.peerViews.get(r);
  if (known?.made === made) return known.view;
  const view = recordPeer(ctx, kind, key, r);
  ctx.store.peerViews.set(r, { made, view });
  return view;
}

/** The parts of a record's peer view that do not depend on the node that has the record. */
export interface PeerBase extends Pick<PeerView, 'kind' | 'origin' | 'name' | 'before' | 'neighbor' | 'sources'> {
  /** The record's key (its address, and port when not BGP's): with `kind`, what the parts were made for. */
  readonly key: string;
}

/** The lines before a peer's neighbor line: one frozen list per TTL security and local AS, kept in the store (the `lines` helper keeps each list's text). */
function beforeLines(store: RenderStore, ttlSecurity: number, localAs: string): readonly string[] {
  const key = `${ttlSecurity}|${localAs}`;
  let list = store.peerBeforeLines.get(key);
  if (!list) {
    const lines = ttlSecurity > 0 ? ['ttl security on;', `multihop ${ttlSecurity};`] : ['ttl security off;', 'multihop;'];
    if (localAs) lines.push(`local as ${localAs};`);
    // A few combinations exist in a cluster; a daemon that sees many over time starts afresh.
    if (store.peerBeforeLines.size >= 1024) store.peerBeforeLines.clear();
    store.peerBeforeLines.set(key, (list = Object.freeze(lines)));
  }
  return list;
}

/** A record's shared parts, made once per record: a route reflector's peers are the same records for every reflector. */
function peerBase(ctx: PeerContext, kind: PeerKind, key: string, r: PeerRecord): PeerBase {
  const known = ctx.store.peerBases.get(r);
  if (known !== undefined && known.kind === kind && known.key === key) return known;
  const s = r.settings;
  const base: PeerBase = {
    kind, key, origin: `${r.family === 'ipv4' ? 'peer_v4' : 'peer_v6'}/${key}`, name: `${prefixes[kind]}_${ipToSymbol(r.ip)}${r.port ? `_port_${r.port}` : ''}`,
    before: beforeLines(ctx.store, s.ttlSecurity, s.localAs), neighbor: neighborLine(r.ip, r.port, r.asNumber), sources: Object.freeze([r.source]),
  };
  ctx.store.peerBases.set(r, base);
  return base;
}

function recordPeer(ctx: PeerContext, kind: PeerKind, key: string, r: PeerRecord): PeerView {
  const s = r.settings;
  const base = peerBase(ctx, kind, key, r);
  const effectiveAs = s.localAs || ctx.nodeAs;
  const sameAs = r.asNumber === effectiveAs;
  const filtered = s.filters.length > 0;
  const block = filterBlocks(ctx, filtered ? filterCalls(ctx, r, 'import', sameAs) : noCalls, filtered ? filterCalls(ctx, r, 'export', sameAs) : noCalls, sameAs);
  const passive = s.localWorkload || (kind === 'global' && s.calicoNode && r.ip > ctx.address);
  const rrClient = ctx.ownRr !== '' && sameAs && r.rrClusterId !== ctx.ownRr;
  const options = statements(ctx, block, s.sourceAddress === 'UseNodeIP', passive, rrClient, ownStatements(ctx, r, sameAs));
  return {
    kind, origin: base.origin, skip: null, name: base.name, peerIp: r.ip, port: r.port, asNumber: r.asNumber,
    before: base.before, neighbor: base.neighbor, options, hasPassword: r.password !== null, sources: base.sources,
  };
}

/** The calls of a record's filters in one direction; a name without rules there is dropped (as Calico), with a warning when the filter does not exist. */
function filterCalls(ctx: PeerContext, r: PeerRecord, direction: Direction, sameAs: boolean): string[] {
  const out: string[] = [];
  for (const name of r.settings.filters) {
    const call = ctx.filters.call(name, direction, sameAs);
    if (call) out.push(call);
    else if (direction === 'import' && !ctx.filters.exists(name)) {
      ctx.diagnostics.push({ severity: 'warning', object: `BGPPeer/${r.source}`, field: 'spec.filters', message: `BGPFilter ${name} does not exist; not applied` });
    }
  }
  return out;
}

/** Peers in Calico's output order: by protocol name, byte-wise (R16). */
export function sortedPeers(peers: PeerView[]): PeerView[] {
  return peers.sort((a, b) => compareText(a.name, b.name));
}

/** Two lists sorted by protocol name as one (the mesh is long and kept sorted; the others are few). */
export function mergedPeers(a: readonly PeerView[], b: readonly PeerView[]): readonly PeerView[] {
  // A node without other peers (most of a mesh) gets the mesh list itself: no copy of thousands.
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: PeerView[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compareText(a[i]!.name, b[j]!.name) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
