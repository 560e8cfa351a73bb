import { compareText } from '../../model/sorted.js';
import type { Family } from '../addresses.js';
import type { BlockFact } from '../facts/blocks.js';
import type { NodePeerings, PeerRecord } from '../facts/peerings.js';
import type { PoolInfo } from '../view/pools.js';
import type { BlockView } from '../view/view-types.js';
import type { Settings332 } from './settings.js';

/** Whether a CIDR is a single address (/32 or /128). */
const isHost = (cidr: string) => cidr.endsWith(cidr.includes(':') ? '/128' : '/32');

/** This node's blocks as v3.32 keeps them: pending ones dropped (R3); each aggregate with its priority escape (R35). */
export function blocks332(blocks: readonly BlockFact[], priority: number): BlockView[] {
  return blocks
    .filter((b) => b.state !== 'pending')
    .map((b) => ({
      ...b,
      aggrStatements: b.aggregate ? [`if ( net = ${b.cidr} ) then { accept; }`, `if ( net ~ ${b.cidr} && krt_metric < ${priority} ) then { accept; }`, `if ( net ~ ${b.cidr} ) then { reject; }`] : [],
    }));
}

/**
 * The routes of `protocol static` (R33, R34): blackholes for the blocks (a /32 or /128 block
 * gets none) and the service routes, and routes to the gateways of peers with `reachableBy`,
 * global ones first, each list in key order. A route repeated (one IP on several ports) is
 * written once, since BIRD refuses a duplicate static route (quirk V15, fixed).
 */
export function staticRoutes332(family: Family, blocks: readonly BlockView[], services: readonly string[], peerings: NodePeerings): string[] {
  const out = [...blocks.filter((b) => !isHost(b.cidr)).map((b) => `route ${b.cidr} blackhole;`), ...services.map((r) => `route ${r} blackhole;`)];
  const seen = new Set(out);
  for (const records of [peerings.global, peerings.node]) {
    // Only the few records with a gateway are sorted (a route reflector has thousands of peers).
    const gateways: PeerRecord[] = [];
    for (const r of records.values()) if (r.family === family && r.settings.reachableBy) gateways.push(r);
    gateways.sort((a, b) => compareText(a.key, b.key));
    for (const r of gateways) {
      const route = `route ${r.ip}/${family === 'ipv4' ? 32 : 128} via ${r.settings.reachableBy};`;
      if (seen.has(route)) continue;
      seen.add(route);
      out.push(route);
    }
  }
  return out;
}

/** A pool's three statements (R39), each null when the pool has none in that list. */
interface PoolStatements {
  readonly exportReject: string | null;
  readonly exportAccept: string | null;
  readonly kernel: string | null;
}

function poolStatements(pool: PoolInfo, family: Family, settings: Settings332, networkV4: string | null): PoolStatements {
  const match = `if (net ~ ${pool.cidr}) then`;
  const exportReject = pool.disableBGPExport ? `${match} { reject; } # BGP export is disabled.` : null;
  const exportAccept = pool.disableBGPExport ? null : `${match} { accept; }`;
  let kernel: string | null = null;
  if (pool.vxlanMode !== 'Never') kernel = `${match} { reject; } # VXLAN routes are handled by Felix.`;
  else if (!settings.programClusterRoutes) kernel = `${match} { reject; } # Cluster routes are handled by Felix.`;
  else if (family === 'ipv4' && networkV4 !== null) kernel = `${match} { ${tunnelStatement(pool, networkV4)}accept; }`;
  return { exportReject, exportAccept, kernel };
}

/** The IP-in-IP choice of an IPv4 pool's routes (Calico's `krt_tunnel`, which only its BIRD knows). */
function tunnelStatement(pool: PoolInfo, networkV4: string): string {
  if (pool.ipipMode === 'Always') return 'krt_tunnel="tunl0"; ';
  if (pool.ipipMode === 'CrossSubnet') return `if (defined(bgp_next_hop)&&(bgp_next_hop ~ ${networkV4})) then krt_tunnel=""; else krt_tunnel="tunl0"; `;
  return '';
}

/** Everything the ipam file's functions hold, as finished statements. */
export interface IpamStatements {
  readonly exportStatements: string[];
  readonly kernelStatements: string[];
}

/** The inputs of the ipam file of one family. */
export interface IpamInputs {
  readonly family: Family;
  readonly pools: readonly PoolInfo[];
  readonly settings: Settings332;
  /** This node's IPv4 network (for cross-subnet IP-in-IP), or null: then no IPv4 pool rules (quirk V19, kept). */
  readonly networkV4: string | null;
  readonly staticRoutes: readonly string[];
  readonly rejects: readonly string[];
  /** Pass on only the service routes this node originates (bird-confd's `--service-routes own`). */
  readonly ownServiceRoutesOnly: boolean;
  /** This node's route reflector cluster id, '' when it is no reflector. */
  readonly rrClusterId: string;
}

/** The export function's and the kernel filter's statements (R36-R42). */
export function ipamStatements(input: IpamInputs): IpamStatements {
  const { family, settings } = input;
  const pools = input.pools.map((p) => poolStatements(p, family, settings, input.networkV4));
  const list = (pick: (p: PoolStatements) => string | null) => pools.map(pick).filter((s): s is string => s !== null).sort(compareText);
  const exportStatements = [
    '# filter code terminates when it calls `accept;` or `reject;`,',
    ...list((p) => p.exportReject),
    'if (internal_peer) then {',
    '  reject_tunnel_routes();',
    '}',
    'reject_local_routes();',
    'apply_communities();',
    'calico_aggr();',
    ...(input.staticRoutes.length ? ['# Export static routes.'] : []),
    ...input.staticRoutes.map((r) => (input.ownServiceRoutesOnly ? `if ( net ~ ${r} ) then { if ( source = RTS_BGP ) then reject; accept; }` : `if ( net ~ ${r} ) then { accept; }`)),
    ...loadBalancerAccepts(input),
    ...list((p) => p.exportAccept),
  ];
  const priority = settings.priority[family];
  const kernelStatements = [
    ...(input.rejects.length ? ["# Don't program static routes into kernel."] : []),
    ...input.rejects.map((r) => `if ( net ~ ${r} ) then { reject; }`),
    'if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {',
    `    krt_metric = ${priority};`,
    '    if (defined(bgp_local_pref)) then {',
    '        krt_metric = 2147483647 - bgp_local_pref;',
    '    }',
    `    if (krt_metric < ${priority}) then {`,
    '        preference = 200;',
    '    }',
    '}',
    // IPv4 pool rules need this node's IPv4 network (quirk V19, kept); IPv6 has only rejects (R41).
    ...(family === 'ipv4' && input.networkV4 === null ? [] : list((p) => p.kernel)),
  ];
  return { exportStatements, kernelStatements };
}

/**
 * A route reflector accepts routes inside the LoadBalancer ranges of its family (R38). Calico
 * prints an empty match for an empty range (quirk V14): empty entries are left out here.
 */
function loadBalancerAccepts(input: IpamInputs): string[] {
  const nets = input.settings.loadBalancerIps.filter((n) => n.family === input.family);
  if (!input.rrClusterId || nets.length === 0) return [];
  return ['# Configured as a RR - accept any routes within configured LB service IP ranges', ...nets.map((n) => `if ( net ~ ${n.cidr} ) then { accept; }`)];
}
