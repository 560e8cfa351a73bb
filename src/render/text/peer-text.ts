import type { PeerView } from '../view/view-types.js';
import type { PeerPrinter } from './templates.js';
import { tidyStable } from './tidy.js';

/** A peer's (or a run of peers') text, and whether it passes through tidy unchanged. */
export interface PeerText {
  readonly text: string;
  readonly stable: boolean;
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
 * shared between renders (a node's mesh entries are built once per cluster state), so each one's
 * text is kept; a long list (a large mesh) goes by chunks of peers, each chunk's text kept under
 * its first peer: after one node changes, one chunk is formatted again and the rest are reused.
 */
export function peerListText(cache: PeerTextCache, peers: readonly PeerView[], printer: PeerPrinter): PeerText {
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
  let text = '';
  let stable = true;
  for (let from = 0; from < peers.length; from += CHUNK) {
    const to = Math.min(peers.length, from + CHUNK);
    const known = cache.chunks.get(peers[from]!);
    let t: PeerText;
    if (known && known.peers.length === to - from && known.peers.every((p, i) => p === peers[from + i])) t = known.text;
    else {
      formatNew(peers.slice(from, to));
      t = joined(from, to);
      cache.chunks.set(peers[from]!, { peers: peers.slice(from, to), text: t });
    }
    text += t.text;
    stable &&= t.stable;
  }
  return { text, stable };
}
