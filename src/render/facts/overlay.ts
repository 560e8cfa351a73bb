/**
 * A map made of a base map and a small set of later changes (null: removed), so that one change
 * makes a new map in time proportional to the changes, not to the map. The base is rebuilt once
 * the changes grow large.
 */
export class Overlay<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly changes: ReadonlyMap<K, V | null>,
  ) {}

  /** An overlay with no changes over `base`. */
  static of<K, V>(base: ReadonlyMap<K, V>): Overlay<K, V> {
    return new Overlay(base, new Map());
  }

  /** The value of `key`, or undefined when absent or removed. */
  get(key: K): V | undefined {
    const changed = this.changes.get(key);
    if (changed === undefined) return this.base.get(key);
    return changed ?? undefined;
  }

  /** A new overlay with `updates` applied (null removes); this one is unchanged. */
  with(updates: ReadonlyMap<K, V | null>): Overlay<K, V> {
    const changes = new Map(this.changes);
    for (const [k, v] of updates) changes.set(k, v);
    if (changes.size <= OVERLAY_LIMIT) return new Overlay(this.base, changes);
    const base = new Map(this.base);
    for (const [k, v] of changes) {
      if (v === null) base.delete(k);
      else base.set(k, v);
    }
    return new Overlay(base, new Map());
  }
}

/** Changes an overlay holds before its base is rebuilt. */
const OVERLAY_LIMIT = 512;
