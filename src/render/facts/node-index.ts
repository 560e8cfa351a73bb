import type { Selector } from '../selector.js';
import type { NodeInfo } from './nodes.js';

/**
 * The nodes of a node list by label, for a store that renders every node of a cluster: there each
 * BGPPeer's selectors would otherwise be tried on every node, once for its sides and again for
 * every node rendered (at 10,000 nodes and 500 BGPPeers, ten million tries).
 */
export class NodeLabelIndex {
  /** Per label key: the nodes that have it, and those per value, each in node-list order. */
  private readonly byKey = new Map<string, { readonly all: NodeInfo[]; readonly byValue: Map<string, NodeInfo[]> }>();

  constructor(readonly nodeList: readonly NodeInfo[]) {
    for (const n of nodeList) {
      for (const key of Object.keys(n.labels)) {
        const value = n.labels[key]!;
        let entry = this.byKey.get(key);
        if (!entry) this.byKey.set(key, (entry = { all: [], byValue: new Map() }));
        entry.all.push(n);
        let same = entry.byValue.get(value);
        if (!same) entry.byValue.set(value, (same = []));
        same.push(n);
      }
    }
  }

  /** The nodes `selector` matches, in node-list order: tried only on the fewest candidates one of its required labels leaves. */
  select(selector: Selector): NodeInfo[] {
    let candidates: readonly NodeInfo[] = this.nodeList;
    for (const c of selector.requires) {
      const entry = this.byKey.get(c.key);
      const these = entry === undefined ? [] : c.value === null ? entry.all : (entry.byValue.get(c.value) ?? []);
      if (these.length < candidates.length) candidates = these;
    }
    return candidates.filter((n) => selector.matches(n.labels));
  }
}
