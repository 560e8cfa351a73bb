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

/** Runs a bulk load (reading manifests) with pretenuring off, and turns it on again after. */
export async function loadingInBulk<T>(load: () => Promise<T>): Promise<T> {
  bulkLoading(true);
  try {
    return await load();
  } finally {
    bulkLoading(false);
  }
}
