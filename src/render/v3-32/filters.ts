import { createHash } from 'node:crypto';
import type { BGPFilter, BGPFilterRule, FilterOperation } from '../../model/bgp-filter.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { Family } from '../addresses.js';

/** Import (routes received from the peer) or export (routes sent to it). */
export type Direction = 'import' | 'export';

/** The BGPFilter functions of one family: the section's lines and how a peer calls them. */
export interface FilterFunctions {
  /** The lines after the section comment: per filter with rules, a comment and its functions. */
  readonly lines: readonly string[];
  /** Whether a BGPFilter of this name exists. */
  readonly exists: (filter: string) => boolean;
  /** The call of a filter by a peer (`'name'();`, or with the peer's same-AS flag), or null when it has no rules there. */
  readonly call: (filter: string, direction: Direction, sameAs: boolean) => string | null;
}

/** The rules of a filter for a direction and family. */
function rulesOf(f: BGPFilter, direction: Direction, family: Family): readonly BGPFilterRule[] {
  const s = f.spec;
  return family === 'ipv4' ? (direction === 'import' ? s.importV4 : s.exportV4) : direction === 'import' ? s.importV6 : s.exportV6;
}

/**
 * A filter function's name as Calico forms it: `'bgp_<name>_importFilterV4'`, the name cut to 28
 * characters and followed by 16 hex digits of its SHA-256 when longer than 45, so that the
 * symbol stays within 64 characters.
 */
export function filterFunctionName(name: string, direction: Direction, family: Family): string {
  const short = name.length <= 45 ? name : `${name.slice(0, 28)}_${createHash('sha256').update(name).digest('hex').toUpperCase().slice(0, 16)}`;
  return `'bgp_${short}_${direction}Filter${family === 'ipv4' ? 'V4' : 'V6'}'`;
}

/**
 * Every BGPFilter's functions for a family (R28-R32), in name order, used by a peer or not (as
 * Calico renders them). A reference to a filter that does not exist or has no rules for the
 * direction is dropped, as Calico does (the peer view warns about it).
 */
export function filterFunctions(snapshot: Snapshot, family: Family): FilterFunctions {
  const tag = family === 'ipv4' ? 'v4' : 'v6';
  const lines: string[] = [];
  const known = new Map<string, BGPFilter>();
  for (const f of snapshot.list('BGPFilter')) {
    known.set(f.metadata.name, f);
    const directions = (['import', 'export'] as const).filter((d) => rulesOf(f, d, family).length > 0);
    if (directions.length === 0) continue;
    lines.push(`# ${tag} BGPFilter ${f.metadata.name}`);
    for (const d of directions) lines.push(...functionLines(f, d, family));
  }
  if (lines.length === 0) lines.push(`# No ${tag} BGPFilters configured`);
  return {
    lines,
    exists: (name) => known.has(name),
    call: (name, direction, sameAs) => {
      const f = known.get(name);
      const rules = f ? rulesOf(f, direction, family) : [];
      if (rules.length === 0) return null;
      return `${filterFunctionName(name, direction, family)}(${rules.some((r) => r.peerType) ? String(sameAs) : ''});`;
    },
  };
}

function functionLines(f: BGPFilter, direction: Direction, family: Family): string[] {
  const rules = rulesOf(f, direction, family);
  const typed = rules.some((r) => r.peerType);
  const out = [`function ${filterFunctionName(f.metadata.name, direction, family)}(${typed ? 'bool is_same_as' : ''}) {`];
  for (const r of rules) {
    const statement = ruleStatement(r);
    out.push(`  ${r.peerType === 'iBGP' ? `if (is_same_as) then { ${statement} }` : r.peerType === 'eBGP' ? `if (!is_same_as) then { ${statement} }` : statement}`);
  }
  out.push('}');
  return out;
}

const operators = { Equal: '=', NotEqual: '!=', In: '~', NotIn: '!~' } as const;

/** `(a, b)` or `(a, b, c)` of a community value, and whether it is a large community. */
function communityTuple(value: string): { tuple: string; large: boolean } {
  const parts = value.split(':').map((p) => String(Number(p)));
  return { tuple: `(${parts.join(', ')})`, large: parts.length === 3 };
}

/** A route priority as BIRD's local preference: 2147483647 - priority. */
const localPref = (priority: number) => 2147483647 - priority;

/** One rule as one BIRD statement (R31): its conditions in Calico's order, then its operations and action. */
export function ruleStatement(r: BGPFilterRule): string {
  const conditions: string[] = [];
  if (r.cidr !== null && r.matchOperator !== null) conditions.push(`(net ${operators[r.matchOperator]} ${prefixPattern(r.cidr, r.prefixLength)})`);
  if (r.source === 'RemotePeers') conditions.push('((defined(source))&&(source ~ [ RTS_BGP ]))');
  if (r.interface !== null) conditions.push(`((defined(ifname))&&(ifname ~ "${r.interface}"))`);
  const community = r.communities?.values[0];
  if (community !== undefined) {
    const c = communityTuple(community);
    conditions.push(`(${c.tuple} ~ ${c.large ? 'bgp_large_community' : 'bgp_community'})`);
  }
  if (r.asPathPrefix.length > 0) conditions.push(`(bgp_path ~ [= ${r.asPathPrefix.join(' ')} * =])`);
  if (r.priority !== null) conditions.push(`(defined(bgp_local_pref)&&(bgp_local_pref = ${localPref(r.priority)}))`);
  const body = [...r.operations.flatMap(operationStatements), r.action === 'Accept' ? 'accept;' : 'reject;'].join(' ');
  return conditions.length ? `if (${conditions.join('&&')}) then { ${body} }` : body;
}

/** The prefix a rule matches: the CIDR as written, or a prefix pattern with its length range. */
function prefixPattern(cidr: string, range: BGPFilterRule['prefixLength']): string {
  if (!range) return cidr;
  const length = Number(cidr.slice(cidr.indexOf('/') + 1));
  const from = Math.max(length, range.min ?? length);
  const to = Math.min(cidr.includes(':') ? 128 : 32, range.max ?? 128);
  return `[ ${cidr}{${from},${to}} ]`;
}

function operationStatements(op: FilterOperation): string[] {
  switch (op.type) {
    case 'addCommunity': {
      const c = communityTuple(op.value);
      return [`${c.large ? 'bgp_large_community' : 'bgp_community'}.add(${c.tuple});`];
    }
    case 'prependASPath':
      // Prepended last first, so the path starts with the list in its order.
      return [...op.prefix].reverse().map((as) => `bgp_path.prepend(${as});`);
    case 'setPriority':
      return [`bgp_local_pref = ${localPref(op.value)};`];
  }
}
