import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { ipv4Value } from '../model/common.js';

/** An address family as the two BIRD 1.6 daemons split them. */
export type Family = 'ipv4' | 'ipv6';

/** A parsed address in the text form Calico writes (Go's formatting; IPv4-mapped IPv6 as IPv4). */
export interface Address {
  readonly family: Family;
  readonly text: string;
}

/** True when a dotted quad has no part with a leading zero (`10.0.0.1`, not `10.00.0.1`): it is its own normal form. */
function isNormalQuad(text: string): boolean {
  for (let i = 0; i + 1 < text.length; i++) if (text.charCodeAt(i) === 48 && (i === 0 || text.charCodeAt(i - 1) === 46) && text.charCodeAt(i + 1) !== 46) return false;
  return true;
}

/** The dotted-quad text of an IPv4 value. */
const ipv4Text = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** An IPv6 address parsed by ipaddr.js, or null; one parse, and none for text without a `:`. */
function ipv6Of(text: string): ipaddr.IPv6 | null {
  if (!text.includes(':')) return null;
  try {
    return ipaddr.IPv6.parse(text);
  } catch {
    return null;
  }
}

/**
 * True when an IPv6 address is IPv4-mapped (`::ffff:a.b.c.d`): the parts read directly, where
 * ipaddr.js's `isIPv4MappedAddress()` matches the address against its whole table of special ranges.
 */
function isV4Mapped(v6: ipaddr.IPv6): boolean {
  const p = v6.parts;
  return p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0xffff;
}

/**
 * Parses an IP address, or returns null. An IPv6 zone id (`fe80::1%eth0`) is refused: it would
 * reach protocol names and neighbor lines, where BIRD rejects it.
 */
export function parseIp(text: string): Address | null {
  if (text.includes('%')) return null;
  const v4 = ipv4Value(text);
  if (v4 >= 0) return { family: 'ipv4', text: isNormalQuad(text) ? text : ipv4Text(v4) };
  const v6 = ipv6Of(text);
  if (!v6) return null;
  if (isV4Mapped(v6)) return { family: 'ipv4', text: v6.toIPv4Address().toString() };
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

/** The top `length` bits of an IPv4 value. */
const v4Masked = (value: number, length: number) => (length === 0 ? 0 : (value & (~0 << (32 - length))) >>> 0);

/**
 * Parses `address/length` or a bare address (a host route), masking the host bits. IPv4 is done
 * with integer arithmetic and IPv6 with one ipaddr.js parse: this runs for every node address.
 */
export function parseNetwork(text: string): Network | null {
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  const v4 = ipv4Value(host);
  const v6 = v4 >= 0 ? null : ipv6Of(host);
  if (v4 < 0 && !v6) return null;
  if (v6 && isV4Mapped(v6)) return parseNetwork(`${v6.toIPv4Address().toString()}${slash < 0 ? '' : text.slice(slash)}`);
  const max = v6 ? 128 : 32;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return null;
  const length = Number(lenText);
  if (v4 >= 0) {
    const address = isNormalQuad(host) ? host : ipv4Text(v4);
    const masked = v4Masked(v4, length);
    return { family: 'ipv4', address, cidr: `${masked === v4 ? address : ipv4Text(masked)}/${length}`, length };
  }
  const parts = v6!.parts.map((part, i) => (length >= (i + 1) * 16 ? part : length <= i * 16 ? 0 : part & (0xffff << (16 - (length - i * 16))) & 0xffff));
  const address = v6!.toRFC5952String();
  // An address without host bits is its own network: one text, not two.
  const masked = parts.every((part, i) => part === v6!.parts[i]) ? address : new ipaddr.IPv6(parts).toRFC5952String();
  return { family: 'ipv6', address, cidr: `${masked}/${length}`, length };
}

/** True when `ip` lies inside `net`. */
export function networkContains(net: Network, ip: Address): boolean {
  if (net.family !== ip.family) return false;
  const v4 = ipv4Value(ip.text);
  const base = ipv4Value(net.cidr.slice(0, net.cidr.indexOf('/')));
  if (v4 >= 0 && base >= 0) return v4Masked(v4, net.length) === base;
  const parsed = ipaddr.parse(ip.text);
  const baseAddr = ipaddr.parse(net.cidr.slice(0, net.cidr.indexOf('/')));
  return parsed.kind() === baseAddr.kind() && parsed.match(baseAddr, net.length);
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
