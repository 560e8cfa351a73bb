import type { BGPPeer } from '../../model/bgp-peer.js';
import { zoneIdMessage } from '../../model/common.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import { parseIp } from '../addresses.js';
import { parseSelector, SelectorParseError, type Selector } from '../selector.js';
import type { RenderStore } from '../store.js';

/** A BGPPeer with its selectors parsed and its peerIP split. */
export interface PeerSpec {
  readonly name: string;
  readonly resource: BGPPeer;
  /** The local side: a selector, one node name, or everything (a global peer). */
  readonly local: { readonly kind: 'global' } | { readonly kind: 'node'; readonly node: string } | { readonly kind: 'selector'; readonly selector: Selector };
  /** The remote side: Calico nodes by selector, or one address. */
  readonly remote:
    | { readonly kind: 'selector'; readonly selector: Selector }
    // asNumber '' when not set: the peer must then be a Calico node, whose AS it takes.
    | { readonly kind: 'ip'; readonly ip: string; readonly port: number; readonly asNumber: string }
    // Workloads on the local node whose endpoint status names this BGPPeer (Calico v3.32).
    | { readonly kind: 'local-workload'; readonly asNumber: string };
}

/** A BGPPeer's specs and the problems found in it, as kept in the store. */
export interface PeerSpecEntry {
  readonly specs: readonly PeerSpec[];
  readonly diagnostics: readonly Diagnostic[];
}

/** A BGPPeer as peering rules read it (empty when invalid), its problems added to `diagnostics`; kept per resource object. */
export function peerSpecs(store: RenderStore, peer: BGPPeer, diagnostics?: Diagnostic[]): readonly PeerSpec[] {
  let known = store.peerSpecs.get(peer);
  if (!known) {
    const own: Diagnostic[] = [];
    known = { specs: derivePeerSpecs(peer, own), diagnostics: own };
    store.peerSpecs.set(peer, known);
  }
  diagnostics?.push(...known.diagnostics);
  return known.specs;
}

function derivePeerSpecs(peer: BGPPeer, diagnostics: Diagnostic[]): PeerSpec[] {
  const object = `BGPPeer/${peer.metadata.name}`;
  const fail = (field: string, message: string): PeerSpec[] => {
    diagnostics.push({ severity: 'error', object, field, message });
    return [];
  };
  const spec = peer.spec;
  let local: PeerSpec['local'] = { kind: 'global' };
  if (spec.nodeSelector) {
    const s = selectorOrError(spec.nodeSelector);
    if (typeof s === 'string') return fail('spec.nodeSelector', s);
    local = { kind: 'selector', selector: s };
  } else if (spec.node) {
    local = { kind: 'node', node: spec.node };
  }
  if (spec.peerSelector) {
    if (spec.peerIP) return fail('spec.peerSelector', 'cannot be combined with spec.peerIP');
    const s = selectorOrError(spec.peerSelector);
    if (typeof s === 'string') return fail('spec.peerSelector', s);
    return [{ name: peer.metadata.name, resource: peer, local, remote: { kind: 'selector', selector: s } }];
  }
  if (spec.localWorkloadSelector) {
    if (!spec.asNumber || spec.asNumber === '0') return fail('spec.asNumber', 'required with spec.localWorkloadSelector (1..4294967295)');
    return [{ name: peer.metadata.name, resource: peer, local, remote: { kind: 'local-workload', asNumber: spec.asNumber } }];
  }
  if (!spec.peerIP) return fail('spec', 'needs spec.peerIP, spec.peerSelector or spec.localWorkloadSelector');
  const split = splitPeerIp(spec.peerIP);
  if (typeof split === 'string') return fail('spec.peerIP', split);
  const asNumber = spec.asNumber && spec.asNumber !== '0' ? spec.asNumber : '';
  return [{ name: peer.metadata.name, resource: peer, local, remote: { kind: 'ip', ip: split.ip, port: split.port, asNumber } }];
}

/** A parsed selector, or the parse error's text. */
function selectorOrError(text: string): Selector | string {
  try {
    return parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorParseError) return err.message;
    throw err;
  }
}

/** Splits `IP`, `IP:port`, `[IPv6]` or `[IPv6]:port`; the port is plain decimal 1..65535. Returns an error text. */
export function splitPeerIp(text: string): { ip: string; port: number } | string {
  let host = text;
  let portText: string | null = null;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2] ?? null;
  } else if (text.split(':').length === 2) {
    [host, portText] = text.split(':') as [string, string];
  }
  const ip = parseIp(host);
  if (!ip && host.includes('%')) return zoneIdMessage(text);
  if (!ip || (bracket && ip.family !== 'ipv6')) return `not an IP address, IP:port or [IPv6]:port: ${JSON.stringify(text.slice(0, 80))}`;
  if (portText === null) return { ip: ip.text, port: 0 };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `port must be a decimal number from 1 to 65535: ${JSON.stringify(portText.slice(0, 20))}`;
  }
  return { ip: ip.text, port: Number(portText) };
}
