/**
 * A JSON `List` read one item at a time. `JSON.parse` of a whole 30 MB list (what `kubectl get -o
 * json` writes) builds every raw item at once; they all outlive the young generation and stay in
 * the old one, dead, until a full collection, beside the resources validated from them: the peak
 * memory of a preview was twice what the resources need. Here one pass finds where each item of
 * the top-level `items` array lies, and each item is parsed only when it is read, so that its raw
 * form dies young.
 *
 * The pass only finds boundaries; `JSON.parse` still judges every byte: the text outside the items
 * (with `"items": []` in their place), and each item on its own. The separators between items,
 * which neither sees, are checked here. Anything unusual (no top-level `items` array, an item that
 * is not an object or array, a duplicate `items` key) gives null, and the caller parses the whole
 * text as before.
 */

/** A JSON List whose items are parsed on demand. */
export interface JsonList {
  /** The top-level object with `items: []`. */
  readonly outer: Record<string, unknown>;
  readonly count: number;
  /** Item `i`, parsed now; throws `JsonItemError` when it is not valid JSON. */
  item(i: number): unknown;
}

/** An item of a JSON List that is not valid JSON (the caller falls back to parsing the whole text). */
export class JsonItemError extends Error {}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/** The index of the quote that closes the string opened at `open`, or -1 (strings are short: a loop beats indexOf). */
function stringEnd(text: string, open: number): number {
  const n = text.length;
  for (let j = open + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j;
    if (c === BACKSLASH) j++;
  }
  return -1;
}

/**
 * The index just past the value that opens at `start` (an object or array), or -1. Only strings
 * and brackets matter here; whether the brackets pair up rightly is for JSON.parse of the item.
 */
function valueEnd(text: string, start: number): number {
  const n = text.length;
  let depth = 0;
  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}

/** Where the items lie: the `[` and `]` of the array and each item's span, or null. */
interface Spans {
  readonly open: number;
  readonly close: number;
  readonly starts: number[];
  readonly ends: number[];
}

/** One pass over the text: the spans of the top-level `items` array, or null when it has none or is unusual. */
function itemSpans(text: string): Spans | null {
  let depth = 0;
  let lastKey = -1; // the last string at depth 1 (outside the items): a key when a colon follows
  let lastKeyEnd = -1;
  let itemsNext = false; // after `"items":`, the value comes next
  let open = -1;
  let close = -1;
  let inItems = false; // depth 2 is then the items array itself
  let expectItem = false;
  const starts: number[] = [];
  const ends: number[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32) {
      // Between items only JSON's white space may stand (no parse sees that text).
      if (inItems && depth === 2 && !isSpace(c)) return null;
      continue;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0 || itemsNext || (inItems && depth === 2)) return null;
      if (depth === 1) {
        lastKey = i;
        lastKeyEnd = end;
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (itemsNext) {
        if (c !== OPEN_BRACKET) return null;
        itemsNext = false;
        open = i;
        inItems = true;
        expectItem = true;
      } else if (inItems && depth === 2) {
        // An item: its end is found in one tight loop, and the scan goes on after it.
        if (!expectItem) return null;
        const end = valueEnd(text, i);
        if (end < 0) return null;
        starts.push(i);
        ends.push(end);
        expectItem = false;
        i = end - 1;
        continue;
      }
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (itemsNext || --depth < 0) return null;
      if (inItems && depth === 1) {
        if (expectItem && starts.length > 0) return null; // a trailing comma
        close = i;
        inItems = false;
      }
    } else if (depth <= 2) {
      if (itemsNext) return null; // `items` is not an array
      if (inItems && depth === 2) {
        if (c !== COMMA || expectItem) return null; // a bare value, or a comma out of place
        expectItem = true;
      } else if (c === COLON && depth === 1 && lastKeyEnd - lastKey === 6 && text.startsWith('"items"', lastKey)) {
        if (open >= 0) return null; // a second `items` key
        itemsNext = true;
      }
    }
  }
  return depth === 0 && open >= 0 && close > open ? { open, close, starts, ends } : null;
}

/** The text as a List read item by item, or null when it is not a JSON object with a top-level `items` array. */
export function jsonList(text: string): JsonList | null {
  const spans = itemSpans(text);
  if (!spans) return null;
  let outer: unknown;
  try {
    outer = JSON.parse(`${text.slice(0, spans.open)}[]${text.slice(spans.close + 1)}`);
  } catch {
    return null;
  }
  if (!outer || typeof outer !== 'object' || Array.isArray(outer)) return null;
  const items = (outer as Record<string, unknown>).items;
  if (!Array.isArray(items) || items.length !== 0) return null;
  return {
    outer: outer as Record<string, unknown>,
    count: spans.starts.length,
    item(i) {
      try {
        return JSON.parse(text.slice(spans.starts[i], spans.ends[i])) as unknown;
      } catch (err) {
        throw new JsonItemError((err as Error).message);
      }
    },
  };
}

/**
 * A Kubernetes list response as a List: item by item when it can be, else parsed whole (the items
 * then come from the parsed array). Throws when the text is not JSON.
 */
export function listOf(text: string): JsonList {
  const list = jsonList(text);
  if (list) return list;
  const whole = JSON.parse(text) as Record<string, unknown>;
  const items = Array.isArray(whole.items) ? (whole.items as unknown[]) : [];
  return { outer: { ...whole, items: [] }, count: items.length, item: (i) => items[i] };
}
