import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';

/** An address family as the two BIRD 1.6 daemons split them. */
export type Family = 'ipv4' | 'ipv6';

/** A parsed address in the text form Calico writes (Go's formatting; IPv4-mapped IPv6 as IPv4). */
export interface Address {
  readonly family: Family;
  readonly text: string;
}

const dotted = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The four octets of a dotted-quad IPv4 address, or null (the hot path: no ipaddr.js objects). */
function ipv4Octets(text: string): number[] | null {
  const m = dotted.exec(text);
  if (!m) return null;
  const octets = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  return octets.every((o) => o <= 255) ? octets : null;
}

/**
 * Parses an IP address, or returns null. An IPv6 zone id (`fe80::1%eth0`) is refused: it would
 * reach protocol names and neighbor lines, where BIRD rejects it.
 */
export function parseIp(text: string): Address | null {
  if (text.includes('%')) return null;
  const octets = ipv4Octets(text);
  if (octets) return { family: 'ipv4', text: octets.join('.') };
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { family: 'ipv4', text: ipaddr.IPv4.parse(text).toString() };
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null;
  const v6 = ipaddr.IPv6.parse(text);
  if (v6.isIPv4MappedAddress()) return { family: 'ipv4', text: v6.toIPv4Address().toString() };
  return { family: 'ipv6', text: v6.toRFC5952String() };
}

/** A network: masked address and prefix length. */
export interface Network {
  readonly family: Family;
  /** The address as given (normalized), before masking. */
  readonly address: string;
  /** `network/length`, masked. */
  readonly cidr: string;
  readonly length: number;
}

/** Parses `address/length` or a bare address (a host route), masking the host bits. */
export function parseNetwork(text: string): Network | null {
  const slash = text.indexOf('/');
  const octets = ipv4Octets(slash < 0 ? text : text.slice(0, slash));
  const v4Len = slash < 0 ? '32' : text.slice(slash + 1);
  if (octets && /^\d{1,2}$/.test(v4Len) && Number(v4Len) <= 32) {
    const length = Number(v4Len);
    const value = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const masked = length === 0 ? 0 : (value & (~0 << (32 - length))) >>> 0;
    const net = [masked >>> 24, (masked >>> 16) & 255, (masked >>> 8) & 255, masked & 255].join('.');
    return { family: 'ipv4', address: octets.join('.'), cidr: `${net}/${length}`, length };
  }
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return null;
  const max = addr.family === 'ipv4' ? 32 : 128;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return null;
  const length = Number(lenText);
  const bytes = ipaddr.parse(addr.text).toByteArray();
  for (let bit = length; bit < max; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const masked = ipaddr.fromByteArray(bytes);
  const maskedText = masked.kind() === 'ipv6' ? (masked as ipaddr.IPv6).toRFC5952String() : masked.toString();
  return { family: addr.family, address: addr.text, cidr: `${maskedText}/${length}`, length };
}

/** True when `ip` lies inside `net`. */
export function networkContains(net: Network, ip: Address): boolean {
  if (net.family !== ip.family) return false;
  const parsed = ipaddr.parse(ip.text);
  const base = ipaddr.parse(net.cidr.slice(0, net.cidr.indexOf('/')));
  return parsed.kind() === base.kind() && parsed.match(base, net.length);
}

/** The family of a CIDR or IP text, decided as Calico does: by whether it contains `:`. */
export function familyOfText(text: string): Family {
  return text.includes(':') ? 'ipv6' : 'ipv4';
}

/** Calico's datastore key form of a CIDR: the first `/` replaced by `-`; keys sort byte-wise. */
export function cidrKey(cidr: string): string {
  return cidr.replace('/', '-');
}

/** A protocol-name fragment from an IP: separators become `_` (`2001::1` gives `2001__1`). */
export function ipToSymbol(ip: string): string {
  return ip.replace(/[.:]/g, '_');
}

/** A router id from a node name: the first four bytes of SHA-256(name), as Calico's `hash` mode. */
export function hashToIPv4(name: string): string {
  return [...createHash('sha256').update(name).digest().subarray(0, 4)].join('.');
}
