import type { FamilyView, NodeView, PeerView } from './view/view-types.js';

/** What a masked secret reads as. */
export const MASK = '***';

/**
 * The one masker of BGP passwords in text: every `password "…"` wherever it stands on a line
 * (shipped and custom templates, BIRD's error messages quoting a line, diffs) and every
 * `define NAME = "…"` (the separate password file). An unterminated string, as BIRD may quote
 * a cut line, is masked to the end of the line.
 */
export function maskSecrets(text: string): string {
  return text.replace(/(\bpassword\s+)"[^"\n]*"?/g, `$1"${MASK}"`).replace(/(\bdefine\s+\w+\s*=\s*)"[^"\n]*"?/g, `$1"${MASK}"`);
}

function maskPeer(p: PeerView): PeerView {
  return p.hasPassword ? { ...p, options: p.options.map(maskSecrets) } : p;
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
