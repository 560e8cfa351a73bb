import type { IPPool } from '../../model/ip-pool.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { RenderStore } from '../store.js';
import { compareText } from '../../model/sorted.js';
import { cidrKey, parseNetwork, type Family } from '../addresses.js';
import type { KernelPoolRule } from './view-types.js';

/** What the pool rules read of one IP pool. */
export interface PoolInfo {
  readonly cidr: string;
  readonly ipipMode: string;
  readonly vxlanMode: string;
  /** v3.32: the pool's routes are not exported to BGP peers. */
  readonly disableBGPExport: boolean;
}

/**
 * IP pools of a family in key order; of two pools with the same CIDR the first by name wins (as
 * Calico). Kept in the store for the latest IPPool list (the snapshot hands out a new list after any change).
 */
export function poolsOf(store: RenderStore, snapshot: Snapshot, family: Family): readonly PoolInfo[] {
  const list = snapshot.list('IPPool');
  const byFamily = store.pools.get(list) ?? store.pools.set(list, {});
  return (byFamily[family] ??= Object.freeze(poolsOfList(list, family)));
}

function poolsOfList(list: readonly IPPool[], family: Family): PoolInfo[] {
  const byKey = new Map<string, PoolInfo>();
  for (const p of list) {
    const net = parseNetwork(p.spec.cidr);
    if (!net || net.family !== family || byKey.has(cidrKey(net.cidr))) continue;
    byKey.set(cidrKey(net.cidr), { cidr: net.cidr, ipipMode: p.spec.ipipMode, vxlanMode: p.spec.vxlanMode, disableBGPExport: p.spec.disableBGPExport });
  }
  return [...byKey.keys()].sort(compareText).map((k) => byKey.get(k)!);
}

/** A pool's statements in the kernel programming filter (v3.17): IPIP through tunl0 or not, VXLAN left to Felix. */
export function kernelPoolRule(pool: PoolInfo, network: string): KernelPoolRule {
  // VXLAN routes are programmed by Felix, not BIRD.
  if (pool.vxlanMode !== 'Never') return { cidr: pool.cidr, statements: ['reject;'] };
  if (pool.ipipMode === 'CrossSubnet') {
    return {
      cidr: pool.cidr,
      statements: [`if defined(bgp_next_hop) && ( bgp_next_hop ~ ${network} ) then`, '  krt_tunnel = "";', 'else', '  krt_tunnel = "tunl0";', 'accept;'],
    };
  }
  return { cidr: pool.cidr, statements: [pool.ipipMode === 'Always' ? 'krt_tunnel = "tunl0";' : 'krt_tunnel = "";', 'accept;'] };
}
