import { compareText } from '../../model/sorted.js';
import type { RenderStore } from '../store.js';
import type { NodeView, PeerView } from '../view/view-types.js';
import { newPeerTextCache, peerListText, type PeerText } from './peer-text.js';
import type { TemplateSet } from './templates.js';
import { tidy } from './tidy.js';

/** The BIRD files, in the order they are written and listed. */
export const birdFiles = ['bird.cfg', 'bird6.cfg', 'bird_aggr.cfg', 'bird6_aggr.cfg', 'bird_ipam.cfg', 'bird6_ipam.cfg'] as const;

/** Marks where set-aside peer text goes back: `\u0001bird-confd-peers-N\u0001\n`. */
const TOKEN_START = '\u0001bird-confd-peers-';

const rank = (name: string) => {
  const i = (birdFiles as readonly string[]).indexOf(name);
  return i < 0 ? birdFiles.length : i;
};

/**
 * Renders a node's files through a compiled template set: the BIRD files first in their usual
 * order, then the others by name; optional files only when the view says they exist. Each file is
 * tidied (no trailing blanks, no runs of blank lines); PowerShell scripts get CRLF line endings.
 */
export function renderNodeFiles(view: NodeView, templates: TemplateSet, store: RenderStore): Map<string, string> {
  return joinedFiles(renderNodeFilePieces(view, templates, store));
}

/** Files given in pieces, each joined into its text by concatenation: nothing is copied until the text is used. */
export function joinedFiles(pieces: ReadonlyMap<string, readonly string[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, parts] of pieces) {
    let text = '';
    for (const part of parts) text += part;
    out.set(name, text);
  }
  return out;
}

/**
 * A node's files as `renderNodeFiles` renders them, each in the pieces it was made of (joined,
 * they are its text): the template's own text and each chunk of a long peer list apart. A
 * route reflector's file is megabytes; one string of it costs a fresh block of memory each time,
 * while its pieces can be written one after the other.
 */
export function renderNodeFilePieces(view: NodeView, templates: TemplateSet, store: RenderStore): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const names = [...templates.files.keys()].sort((a, b) => rank(a) - rank(b) || compareText(a, b));
  for (const name of names) {
    if (view.optionalFiles[name] === false) continue;
    const pieces = renderFile(view, templates, name, store);
    // PowerShell scripts for Windows keep CRLF line endings, as Calico's do (a line break never spans two pieces).
    out.set(name, name.endsWith('.ps1') ? pieces.map((p) => p.replace(/\r?\n/g, '\r\n')) : pieces);
  }
  return out;
}

/**
 * One file. Peer lists are set aside while the file is tidied: the template gets a short token in
 * place of each list's text, the (small) rest of the file is tidied, then the tokens are replaced
 * by the peer text, which is kept tidy already. A file of a large mesh is megabytes of peer text,
 * and tidying it on every render would cost more than everything else together.
 */
function renderFile(view: NodeView, templates: TemplateSet, name: string, store: RenderStore): readonly string[] {
  const template = templates.files.get(name)!;
  const setAside: PeerText[] = [];
  const peer = templates.peer;
  const peerBlocks = (peers: readonly PeerView[]): string => {
    if (!peer) return '';
    let cache = store.keepsNodeViews ? store.peerTexts.get(peer) : null;
    if (cache === undefined) store.peerTexts.set(peer, (cache = newPeerTextCache()));
    const t = peerListText(cache, peers, peer);
    if (!t.stable || t.text === '') return t.text;
    setAside.push(t);
    return `${TOKEN_START}${setAside.length - 1}\u0001\n`;
  };
  const text = tidy(template.run(view, { peerBlocks }));
  return setAside.length === 0 ? [text] : restore(text, setAside);
}

/** Puts the set-aside peer text back in place of its tokens: the pieces between them and each peer text's own pieces. */
function restore(text: string, setAside: readonly PeerText[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf(TOKEN_START, at);
    if (start < 0) break;
    const end = text.indexOf('\u0001\n', start + TOKEN_START.length);
    if (start > at) out.push(text.slice(at, start));
    const peers = setAside[Number(text.slice(start + TOKEN_START.length, end))]!;
    out.push(...(peers.parts ?? [peers.text]));
    at = end + 2;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
