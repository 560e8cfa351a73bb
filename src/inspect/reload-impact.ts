import { bgpNeighbor, effectiveStatements, readBirdConfig, type BirdConfig, type BirdProtocol } from './bird-config.js';
import { maskSecrets } from '../render/mask.js';

/** Which daemon reads a main file. */
export type Daemon = 'bird' | 'bird6';

/** What a reload (`birdc configure`) does to one BGP session. */
export type Impact = 'added' | 'removed' | 'restarted' | 'unaffected';

/** The reload impact on one BGP protocol. Reasons never hold a secret. */
export interface ProtocolImpact {
  readonly daemon: Daemon;
  readonly protocol: string;
  readonly neighbor: string;
  readonly impact: Impact;
  /** Why; for `unaffected`, what changes without a restart (empty when nothing does). */
  readonly reasons: readonly string[];
}

/** The reload impact of replacing one file set by another. */
export interface ReloadImpact {
  readonly protocols: readonly ProtocolImpact[];
  /** Changes that are not about one BGP session (other protocols, listen port). */
  readonly notes: readonly string[];
}

const mains: readonly (readonly [Daemon, string])[] = [['bird', 'bird.cfg'], ['bird6', 'bird6.cfg']];

// Statements BIRD 1.6 applies in place on `configure` (proto_reconfigure copies them over).
const inPlace = /^(debug|description|mrtdump)\b/;
// Filter and preference changes keep the session: routes are re-exported, or re-imported by a
// route refresh (an import change restarts the session only if the peer cannot refresh).
const routeOnly = /^(import|export|preference)\b/;

/**
 * Classifies what a BIRD 1.6 reload does to each BGP protocol when the files `before` are
 * replaced by `after` (both keyed by file name). Pure; follows BIRD's reconfigure rules: a
 * changed protocol option (its own or its template's) or router id restarts the session; a
 * changed filter (or a function or constant it uses) re-announces routes without a restart.
 */
export function reloadImpact(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): ReloadImpact {
  const protocols: ProtocolImpact[] = [];
  const notes: string[] = [];
  for (const [daemon, main] of mains) {
    if (!before.has(main) && !after.has(main)) continue;
    const old = readBirdConfig(before, main);
    const cur = readBirdConfig(after, main);
    protocols.push(...daemonImpact(daemon, old, cur));
    notes.push(...daemonNotes(daemon, old, cur));
  }
  return { protocols, notes };
}

/**
 * The BGP protocols of `daemon` that exist before and after and whose own options (their
 * template's included, constants resolved) changed: a reload restarts them on purpose, and the
 * other side may need the same change before they come back (a new password or AS number).
 * Filter-only changes and a new router id do not count: those sessions are meant to stay up.
 */
export function reconfiguredSessions(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>, daemon: Daemon): string[] {
  const main = daemon === 'bird' ? 'bird.cfg' : 'bird6.cfg';
  if (!before.has(main) || !after.has(main)) return [];
  const old = readBirdConfig(before, main);
  const cur = readBirdConfig(after, main);
  const now = new Map(cur.protocols.filter((p) => p.type === 'bgp').map((p) => [p.name, p]));
  return old.protocols
    .filter((o) => o.type === 'bgp' && now.has(o.name))
    .filter((o) => statementChanges(effectiveStatements(o, old), old, effectiveStatements(now.get(o.name)!, cur), cur).some((c) => !inPlace.test(c.key) && !routeOnly.test(c.key)))
    .map((o) => o.name);
}

function daemonImpact(daemon: Daemon, old: BirdConfig, cur: BirdConfig): ProtocolImpact[] {
  const oldBgp = new Map(old.protocols.filter((p) => p.type === 'bgp').map((p) => [p.name, p]));
  const newBgp = new Map(cur.protocols.filter((p) => p.type === 'bgp').map((p) => [p.name, p]));
  const names = [...new Set([...oldBgp.keys(), ...newBgp.keys()])].sort();
  return names.map((name) => {
    const o = oldBgp.get(name);
    const n = newBgp.get(name);
    const neighbor = describeNeighbor(effectiveStatements((n ?? o)!, n ? cur : old));
    if (!o) return { daemon, protocol: name, neighbor, impact: 'added', reasons: [] };
    if (!n) return { daemon, protocol: name, neighbor, impact: 'removed', reasons: [] };
    return { daemon, protocol: name, neighbor, ...compareProtocol(o, old, n, cur) };
  });
}

function compareProtocol(o: BirdProtocol, old: BirdConfig, n: BirdProtocol, cur: BirdConfig): { impact: Impact; reasons: string[] } {
  const hard: string[] = [];
  const soft: string[] = [];
  if (old.routerId !== cur.routerId) hard.push(`router id changed: ${old.routerId ?? 'none'} -> ${cur.routerId ?? 'none'}`);
  const a = effectiveStatements(o, old);
  const b = effectiveStatements(n, cur);
  for (const change of statementChanges(a, old, b, cur)) {
    (inPlace.test(change.key) || routeOnly.test(change.key) ? soft : hard).push(change.text);
  }
  if (hard.length > 0) return { impact: 'restarted', reasons: hard };
  return { impact: 'unaffected', reasons: [...soft, ...filterChanges(b, old, cur).map((c) => `${c}, session kept`)] };
}

/** The filters a protocol uses whose text (or a function or constant they use) changed. */
function filterChanges(statements: readonly string[], old: BirdConfig, cur: BirdConfig, exported = 're-announced'): string[] {
  return filterRefs(statements)
    .filter((ref) => filterClosure(ref.name, old, ref.body) !== filterClosure(ref.name, cur, ref.body))
    .map((ref) => `${ref.direction} filter ${ref.body === undefined ? `${ref.name} ` : ''}changed: routes ${ref.direction === 'export' ? exported : 're-imported (route refresh)'}`);
}

/** One statement difference, described without secrets. */
interface StatementChange {
  readonly key: string;
  readonly text: string;
}

function statementChanges(a: readonly string[], old: BirdConfig, b: readonly string[], cur: BirdConfig): StatementChange[] {
  const byKey = (list: readonly string[], config: BirdConfig) => {
    const m = new Map<string, string[]>();
    for (const s of list) {
      const key = statementKey(s);
      m.set(key, [...(m.get(key) ?? []), resolveDefines(s, config)]);
    }
    return m;
  };
  const x = byKey(a, old);
  const y = byKey(b, cur);
  const out: StatementChange[] = [];
  for (const key of [...new Set([...x.keys(), ...y.keys()])].sort()) {
    const before = x.get(key) ?? [];
    const after = y.get(key) ?? [];
    if (before.join('\n') === after.join('\n')) continue;
    const show = (list: string[]) => list.map((s) => (/^password\b/.test(s) ? 'password "***"' : maskSecrets(s))).join('; ');
    if (key === 'password') out.push({ key, text: before.length && after.length ? 'password changed' : after.length ? 'password added' : 'password removed' });
    // An inline filter (Calico v3.32's per-peer blocks) is named by its direction, not printed whole.
    else if ((key === 'import' || key === 'export') && [...before, ...after].some((t) => t.includes('{'))) out.push({ key, text: `${key} filter changed: routes ${key === 'export' ? 're-announced' : 're-imported (route refresh)'}` });
    else if (!before.length) out.push({ key, text: `added: ${show(after)}` });
    else if (!after.length) out.push({ key, text: `removed: ${show(before)}` });
    else out.push({ key, text: `changed: ${show(before)} -> ${show(after)}` });
  }
  return out;
}

// Options whose value is a keyword (`debug all`, `passive on`, `next hop keep`): the key is the option.
const keywordOptions = ['debug', 'import', 'export', 'passive', 'next hop', 'gateway', 'add paths', 'graceful restart', 'multihop', 'mrtdump', 'direct', 'bfd', 'ttl security', 'interpret communities', 'enable route refresh', 'enable as4', 'disabled', 'deterministic med', 'prefer older', 'secondary'];

/** The words that name what a statement sets: `rr cluster id`, `neighbor`, `local as`, `debug`. */
export function statementKey(statement: string): string {
  const known = keywordOptions.find((k) => statement === k || statement.startsWith(`${k} `));
  if (known) return known;
  const words: string[] = [];
  for (const w of statement.split(' ')) {
    if (!/^[a-z]+$/.test(w)) break;
    words.push(w);
  }
  return words.join(' ') || statement;
}

/** A statement with constants replaced by their values, for comparing (`password p1;` is the password). */
function resolveDefines(statement: string, config: BirdConfig): string {
  if (config.defines.size === 0) return statement;
  return statement.replace(/\b[A-Za-z_]\w*\b/g, (w) => config.defines.get(w) ?? w);
}

/** The filters a protocol uses: by name, or inline (`export filter { … }`, whose body is kept). */
function filterRefs(statements: readonly string[]): { direction: 'import' | 'export'; name: string; body?: string }[] {
  const out: { direction: 'import' | 'export'; name: string; body?: string }[] = [];
  for (const s of statements) {
    const m = /^(import|export) filter ([A-Za-z_]\w*)$/.exec(s);
    if (m) out.push({ direction: m[1] as 'import' | 'export', name: m[2]! });
    const inline = /^(import|export) filter \{(.*)\}$/s.exec(s);
    if (inline) out.push({ direction: inline[1] as 'import' | 'export', name: 'inline', body: inline[2]! });
  }
  return out;
}

/** A filter's text (or an inline filter's body) with every function and constant it uses, transitively, in a stable order. */
function filterClosure(name: string, config: BirdConfig, inline?: string): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  const visit = (kind: string, id: string, body: string | undefined) => {
    if (seen.has(id)) return;
    seen.add(id);
    parts.push(`${kind} ${id} ${body ?? '(undefined)'}`);
    for (const m of (body ?? '').matchAll(/\b([A-Za-z_]\w*)\b(\s*\()?/g)) {
      const word = m[1]!;
      if (m[2] && config.functions.has(word)) visit('function', word, config.functions.get(word));
      else if (config.defines.has(word)) visit('define', word, config.defines.get(word));
    }
  };
  visit('filter', name, inline ?? config.filters.get(name));
  return parts.sort().join('\n');
}

function daemonNotes(daemon: Daemon, old: BirdConfig, cur: BirdConfig): string[] {
  const notes: string[] = [];
  if (old.listen.join('\n') !== cur.listen.join('\n')) {
    // Checked against BIRD 1.6.8: configure keeps the listening socket and every session.
    notes.push(`${daemon}: listen setting changed (${old.listen.join('; ') || 'default'} -> ${cur.listen.join('; ') || 'default'}); BIRD 1.6 keeps its listening socket on a reload, so it takes effect only when ${daemon} restarts`);
  }
  const others = (c: BirdConfig) => new Map(c.protocols.filter((p) => p.type !== 'bgp').map((p) => [p.name, p]));
  const a = others(old);
  const b = others(cur);
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x) notes.push(`${daemon}: protocol ${name} added`);
    else if (!y) notes.push(`${daemon}: protocol ${name} removed`);
    else if (x.statements.join('\n') !== y.statements.join('\n')) notes.push(`${daemon}: protocol ${name} changed${y.type === 'static' ? ' (routes updated in place; peers get the new announcements)' : ''}`);
    else notes.push(...filterChanges(y.statements, old, cur, 're-exported').map((c) => `${daemon}: protocol ${name}: ${c}`));
  }
  if (cur.missingIncludes.length) notes.push(`${daemon}: included file(s) missing: ${cur.missingIncludes.join(', ')}`);
  return notes;
}

function describeNeighbor(statements: readonly string[]): string {
  const n = bgpNeighbor(statements);
  return n ? `${n.address}${n.port ? ` port ${n.port}` : ''} as ${n.as}` : '';
}
