import type { PeerView } from '../view/view-types.js';
import type { PeerPrinter } from './templates.js';
import { tidyStable } from './tidy.js';

/** A peer's (or a run of peers') text, and whether it passes through tidy unchanged. */
export interface PeerText {
  readonly text: string;
  readonly stable: boolean;
  /** The text in the pieces it was made of (a long list's chunks); absent for a short list, whose text is one piece. */
  readonly parts?: readonly string[];
}

/** The texts kept for one compiled peer template: per peer, and per run of peers in a long list. */
export interface PeerTextCache {
  readonly texts: WeakMap<PeerView, PeerText>;
  readonly chunks: WeakMap<PeerView, { readonly peers: readonly PeerView[]; readonly text: PeerText }>;
}

/** Peers per cached chunk of a long list. */
const CHUNK = 64;

/** A fresh cache for one peer template. */
export function newPeerTextCache(): PeerTextCache {
  return { texts: new WeakMap(), chunks: new WeakMap() };
}

/**
 * The text of a list of peers through `print` (the `peer` partial). Peer views are immutable and
 * shared between renders (a node's mesh entries are built once per cluster state), so texts are
 * kept: a short list's per peer; a long list (a large mesh, a route reflector's clients) goes by
 * chunks of peers, each formatted in one template call and kept under its first peer: after one
 * node changes, one chunk is formatted again and the rest are reused. A chunk's text is not cut
 * into its peers' (a route reflector's views are new for every node rendered: their texts, kept
 * apart, would only be garbage to collect). Without a cache the list is formatted in one call.
 */
export function peerListText(cache: PeerTextCache | null, peers: readonly PeerView[], printer: PeerPrinter): PeerText {
  // Nothing kept (a store that renders each node once): the list by chunks, none kept.
  if (cache === null) return chunked(peers, printer, null);
  // Peers not formatted before go through the partial in one call (one per peer if that fails).
  const formatNew = (list: readonly PeerView[]): void => {
    const missing = [...new Set(list.filter((p) => !cache.texts.has(p)))];
    if (missing.length < 2) return;
    const texts = printer.runMany(missing);
    texts?.forEach((text, i) => cache.texts.set(missing[i]!, { text, stable: tidyStable(text) }));
  };
  const textOf = (p: PeerView): PeerText => {
    let t = cache.texts.get(p);
    if (t === undefined) {
      const text = printer.run(p);
      t = { text, stable: tidyStable(text) };
      cache.texts.set(p, t);
    }
    return t;
  };
  const joined = (from: number, to: number): PeerText => {
    let text = '';
    let stable = true;
    for (let i = from; i < to; i++) {
      const t = textOf(peers[i]!);
      text += t.text;
      stable &&= t.stable;
    }
    return { text, stable };
  };
  // A short list is one chunk, not worth keeping apart from its peers' own texts.
  if (peers.length <= CHUNK) {
    formatNew(peers);
    return joined(0, peers.length);
  }
  return chunked(peers, printer, cache.chunks);
}

/**
 * A long list by chunks of peers, each formatted in one template call (and kept under its first
 * peer when there is somewhere to keep it). Each chunk's text is made flat when it is checked: a
 * flat string per chunk costs less to make than one of a whole route reflector's list.
 */
function chunked(peers: readonly PeerView[], printer: PeerPrinter, chunks: PeerTextCache['chunks'] | null): PeerText {
  let text = '';
  let stable = true;
  const parts: string[] = [];
  for (let from = 0; from < peers.length; from += CHUNK) {
    const to = Math.min(peers.length, from + CHUNK);
    const known = chunks?.get(peers[from]!);
    let t: PeerText;
    if (known && known.peers.length === to - from && known.peers.every((p, i) => p === peers[from + i])) t = known.text;
    else {
      const run = peers.slice(from, to);
      const chunk = printer.runList(run);
      // A chunk that tidy would leave alone stays so next to its neighbours, as its peers' texts would.
      t = { text: chunk, stable: tidyStable(chunk) };
      chunks?.set(peers[from]!, { peers: run, text: t });
    }
    text += t.text;
    parts.push(t.text);
    stable &&= t.stable;
  }
  return { text, stable, parts };
}
