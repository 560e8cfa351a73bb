import type { BlockAffinity } from '../../model/block-affinity.js';
import type { Snapshot } from '../../model/snapshot.js';
import { compareText } from '../../model/sorted.js';
import { cidrKey, parseNetwork, type Family } from '../addresses.js';
import type { RenderStore } from '../store.js';

/** An IPAM block affine to a node, as the views read it. */
export interface BlockFact {
  readonly cidr: string;
  /** `confirmed`, `pending`, `pendingDeletion`, or '' (implicitly confirmed). */
  readonly state: string;
  /** Whether the block is exported as one aggregate (confirmed or implicitly confirmed). */
  readonly aggregate: boolean;
}

/** The IPAM blocks of each node, by family, in Calico's key order. */
export interface NodeBlocks {
  get(node: string): Readonly<Record<Family, readonly BlockFact[]>> | undefined;
}

/**
 * The block affinities grouped by node; each node's are parsed, deduplicated (the first affinity
 * of a CIDR wins) and sorted when that node is first asked for, so rendering one node parses its
 * own blocks, not the whole cluster's.
 */
export function blocksByNode(store: RenderStore, snapshot: Snapshot): NodeBlocks {
  const raw = new Map<string, BlockAffinity[]>();
  for (const b of snapshot.list('BlockAffinity')) {
    const mine = raw.get(b.spec.node);
    if (mine) mine.push(b);
    else raw.set(b.spec.node, [b]);
  }
  const facts = new Map<string, Record<Family, BlockFact[]>>();
  return {
    get(node) {
      let f = facts.get(node);
      const mine = raw.get(node);
      if (f === undefined && mine) facts.set(node, (f = nodeBlocks(store, mine)));
      return f;
    },
  };
}

function nodeBlocks(store: RenderStore, affinities: readonly BlockAffinity[]): Record<Family, BlockFact[]> {
  const keyed = new Map<string, BlockFact>();
  for (const b of affinities) {
    const fact = blockFact(store, b);
    if (!fact) continue;
    const key = cidrKey(fact.cidr);
    if (!keyed.has(key)) keyed.set(key, fact);
  }
  const sorted = [...keyed.keys()].sort(compareText).map((k) => keyed.get(k)!);
  return { ipv4: sorted.filter((b) => !b.cidr.includes(':')), ipv6: sorted.filter((b) => b.cidr.includes(':')) };
}

function blockFact(store: RenderStore, b: BlockAffinity): BlockFact | null {
  let fact = store.blocks.get(b);
  if (fact === undefined) {
    const net = parseNetwork(b.spec.cidr);
    fact = net ? { cidr: net.cidr, state: b.spec.state, aggregate: b.spec.state === '' || b.spec.state === 'confirmed' } : null;
    store.blocks.set(b, fact);
  }
  return fact;
}
