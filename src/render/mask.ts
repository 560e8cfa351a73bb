import type { FamilyView, NodeView, PeerView } from './view-types.js';

/** What a masked secret reads as. */
export const MASK = '***';

/** A password statement with its value masked (`password "***";`); other text unchanged. */
export function maskPasswordLine(line: string): string {
  return line.replace(/^(\s*password\s+)"[^"\n]*"/, `$1"${MASK}"`);
}

/** Masks every `password "...";` in a rendered file, for previews, diffs and logs. */
export function maskPasswords(text: string): string {
  return text.replace(/^(\s*password\s+)"[^"\n]*"/gm, `$1"${MASK}"`).replace(/^(define\s+\w+\s*=\s*)"[^"\n]*"/gm, `$1"${MASK}"`);
}

function maskPeer(p: PeerView): PeerView {
  return p.hasPassword ? { ...p, options: p.options.map(maskPasswordLine) } : p;
}

function maskFamily(f: FamilyView): FamilyView {
  return {
    ...f,
    passwordDefines: f.passwordDefines.map((d) => ({ ...d, value: MASK })),
    bgp: f.bgp && { ...f.bgp, globalPeers: f.bgp.globalPeers.map(maskPeer), nodePeers: f.bgp.nodePeers.map(maskPeer) },
  };
}

/** The view with every password replaced by `***`. */
export function maskView(view: NodeView): NodeView {
  return { ...view, ipv4: maskFamily(view.ipv4), ipv6: maskFamily(view.ipv6) };
}
