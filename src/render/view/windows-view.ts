import type { RenderStore } from '../store.js';
import type { FamilyView, PeerView } from './view-types.js';

/** One BGP peering of a Windows node, every value already quoted for PowerShell. */
export interface WindowsPeering {
  readonly kind: PeerView['kind'];
  readonly name: string;
  /** `'Mesh_10_0_0_2'`: a single-quoted PowerShell string. */
  readonly nameLiteral: string;
  readonly ipLiteral: string;
  /** The AS number as a bare PowerShell number (digits only). */
  readonly asn: string;
}

/** A block of the node in blocks.ps1. */
export interface WindowsBlock {
  readonly cidr: string;
  readonly state: string;
  /** The quoted CIDR, or null when the block is not advertised (pending states). */
  readonly cidrLiteral: string | null;
}

/** What peerings.ps1 and blocks.ps1 print (Calico for Windows, v3.17: IPv4 only). */
export interface WindowsView {
  readonly enabled: boolean;
  readonly localIpLiteral: string;
  readonly bgpIdLiteral: string;
  readonly localAsn: string;
  readonly peerings: readonly WindowsPeering[];
  /** Peerings left out because another one has the same Name (Windows names carry no port). */
  readonly dropped: readonly string[];
  readonly blocks: readonly WindowsBlock[];
}

/** A PowerShell single-quoted string: nothing is expanded inside, and `'` is doubled. */
export function psQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, "''")}'`;
}

function digits(value: string): string {
  if (!/^\d{1,10}$/.test(value)) throw new Error(`not an AS number: ${JSON.stringify(value)}`);
  return value;
}

/** Peer views are immutable and shared between renders (mesh entries especially), so each one's Windows form (its name included) is kept in the store. */
function windowsPeering(store: RenderStore, p: PeerView, name: string): WindowsPeering {
  let w = store.windowsPeerings.get(p);
  if (w === undefined) {
    w = { kind: p.kind, name, nameLiteral: psQuote(name), ipLiteral: psQuote(p.peerIp), asn: digits(p.asNumber) };
    store.windowsPeerings.set(p, w);
  }
  return w;
}

/**
 * The Windows view of a node, built from its IPv4 family view (the same decisions as bird.cfg):
 * mesh, global and node-specific peers by name without port suffix (Windows peers have no port),
 * this node skipped; confirmed or implicitly confirmed blocks only.
 */
export function windowsView(store: RenderStore, ipv4: FamilyView, routerId: string, localAs: string): WindowsView {
  const peerings: WindowsPeering[] = [];
  const dropped: string[] = [];
  const seen = new Set<string>();
  const bgp = ipv4.bgp;
  const all = bgp ? [...(bgp.mesh.disabled ? [] : bgp.mesh.peers), ...bgp.globalPeers, ...bgp.nodePeers] : [];
  for (const p of all) {
    if (p.skip) continue;
    const prefix = p.kind === 'mesh' ? 'Mesh' : p.kind === 'global' ? 'Global' : 'Node';
    const name = `${prefix}_${p.peerIp.replace(/\./g, '_')}`;
    if (seen.has(name)) {
      dropped.push(`${p.name} (same Windows name as an earlier peering)`);
      continue;
    }
    seen.add(name);
    peerings.push(windowsPeering(store, p, name));
  }
  return {
    enabled: ipv4.address !== null,
    localIpLiteral: psQuote(ipv4.address ?? ''),
    bgpIdLiteral: psQuote(routerId),
    localAsn: digits(localAs),
    peerings,
    dropped,
    blocks: ipv4.blocks.map((b) => ({ cidr: b.cidr, state: b.state, cidrLiteral: b.aggregate ? psQuote(b.cidr) : null })),
  };
}
