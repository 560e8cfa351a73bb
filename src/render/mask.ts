import type { FamilyView332 } from './v3-32/view-types.js';
import type { FamilyView, FamilyViewBase, NodeView, PeerView } from './view/view-types.js';

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

function maskBase<F extends FamilyViewBase>(f: F): F {
  return { ...f, passwordDefines: f.passwordDefines.map((d) => ({ ...d, value: MASK })), sessions: f.sessions.map(maskPeer) };
}

function mask317(f: FamilyView): FamilyView {
  const bgp = f.bgp && { ...f.bgp, globalPeers: f.bgp.globalPeers.map(maskPeer), nodePeers: f.bgp.nodePeers.map(maskPeer) };
  return { ...maskBase(f), bgp };
}

function mask332(f: FamilyView332): FamilyView332 {
  return { ...maskBase(f), bgp: f.bgp && { ...f.bgp, peers: f.bgp.peers.map(maskPeer) } };
}

/** The view with every password replaced by `***`. */
export function maskView(view: NodeView): NodeView {
  if (view.calicoVersion === '3.17') return { ...view, ipv4: mask317(view.ipv4), ipv6: mask317(view.ipv6) };
  return { ...view, ipv4: mask332(view.ipv4), ipv6: mask332(view.ipv6) };
}
