import { setFlagsFromString } from 'node:v8';

/**
 * While a command reads a whole cluster in bulk, most of what it parses dies young (raw list
 * items, once validated). V8's allocation-site pretenuring, which sets in at random under such a
 * load, then allocates it straight into the old generation, where it stays until a full
 * collection: up to a quarter more peak memory, and more collector time. It is off while a
 * command loads, and on again once the data is in: rendering a large mesh, whose structures live
 * long, is faster with it.
 */
export function bulkLoading(on: boolean): void {
  setFlagsFromString(on ? '--no-allocation-site-pretenuring' : '--allocation-site-pretenuring');
}

/**
 * The daemon keeps pretenuring off for its whole life, not only while it loads. After its first
 * run its work is small changes, each of which replaces values the store keeps (a node's mesh
 * peer list, a peer list's text by chunks) by new ones made by the same code that made them in
 * bulk before. The allocation sites V8 saw making long-lived objects then would go on allocating
 * the replacements in the old generation, where each dead one keeps the young values it points to
 * alive through every young-generation collection until a full one: at a 5,000-node mesh, about
 * 2 MB promoted per collection and collections of 6-15 ms, the latency's 99th percentile.
 */
export function daemonHeap(): void {
  bulkLoading(true);
}

/** Runs a bulk load (reading manifests) with pretenuring off, and turns it on again after. */
export async function loadingInBulk<T>(load: () => Promise<T>): Promise<T> {
  bulkLoading(true);
  try {
    return await load();
  } finally {
    bulkLoading(false);
  }
}
