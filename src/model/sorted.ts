/**
 * The first index in `items` (sorted by `keyOf`, byte-wise) whose key is not below `key`: where
 * `key` is, or would be inserted.
 */
export function lowerBound<T>(items: readonly T[], key: string, keyOf: (item: T) => string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(items[mid]!) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Byte-wise (UTF-16 code unit) order, like Go's string order for ASCII: the one order of names and keys. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
