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

/** Each node's blocks per family, in Calico's key order; the first affinity of a CIDR wins. */
export function blocksByNode(store: RenderStore, snapshot: Snapshot): Map<string, Record<Family, BlockFact[]>> {
  const keyed = new Map<string, Map<string, BlockFact>>();
  for (const b of snapshot.list('BlockAffinity')) {
    const fact = blockFact(store, b);
    if (!fact) continue;
    let mine = keyed.get(b.spec.node);
    if (!mine) keyed.set(b.spec.node, (mine = new Map()));
    const key = cidrKey(fact.cidr);
    if (!mine.has(key)) mine.set(key, fact);
  }
  const out = new Map<string, Record<Family, BlockFact[]>>();
  for (const [node, mine] of keyed) {
    const sorted = [...mine.keys()].sort(compareText).map((k) => mine.get(k)!);
    out.set(node, { ipv4: sorted.filter((b) => !b.cidr.includes(':')), ipv6: sorted.filter((b) => b.cidr.includes(':')) });
  }
  return out;
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
