import { z } from 'zod';
import ipaddr from 'ipaddr.js';

/**
 * The one empty label (or annotation) map and the one empty list that resources share, frozen
 * (resources are never changed): most objects have no annotations, many Services no external
 * IPs, and tens of thousands of empty objects are work for the collector at a daemon's start.
 */
export const noStrings: Record<string, string> = Object.freeze({}) as Record<string, string>;
export const none: never[] = Object.freeze([]) as unknown as never[];

/** Label and annotation maps; YAML scalars such as `true` or `1` are read as their text, as Kubernetes would store them. */
export const StringMap = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .nullish()
  .transform((m): Record<string, string> => {
    // One pass for the whole map: a transform per value would cost more than the check.
    if (!m) return noStrings;
    let out = m;
    for (const k in m) {
      if (typeof m[k] === 'string') continue;
      if (out === m) out = { ...m };
      out[k] = String(m[k]);
    }
    return out as Record<string, string>;
  });
export type StringMap = z.infer<typeof StringMap>;

/** The characters of a resource name bird-confd accepts (Kubernetes' plus `_` and upper case, as Calico tolerates). */
export const namePattern = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** The metadata fields bird-confd reads. */
export const ObjectMeta = z.object({
  // Names reach comments and file content: keep them to what Kubernetes allows (plus `_` and
  // upper case, which Calico tolerates), so no name can carry a line break or a quote.
  name: z
    .string()
    .min(1, 'metadata.name is required')
    .max(253, 'metadata.name is longer than 253 characters')
    .regex(namePattern, 'metadata.name must be letters, digits, "-", "_" and ".", starting and ending with a letter or digit'),
  namespace: z.string().nullish(),
  labels: StringMap,
  annotations: StringMap,
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

// Common-form readers. The usual form of a large kind (Services, EndpointSlices, Nodes: tens of
// thousands of objects at a daemon's start) is read without zod, which costs ~10 µs and several
// object copies per object: a reader gives exactly what the schema gives (the same fields, values
// and key order) or undefined for anything unusual (a wrong type, a null, an odd value, a
// prototype other than a plain object's), and then the schema reads it and words the problems.
// test/plain-readers.test.ts holds every reader against its schema.

/** A plain object (as JSON.parse and YAML make them), or undefined. */
export function plainObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype ? (v as Record<string, unknown>) : undefined;
}

/** A label or annotation map of string values as `StringMap` gives it (a copy; the shared empty map when absent or empty), or undefined. */
export function plainStringMap(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return noStrings;
  const m = plainObject(v);
  if (!m) return undefined;
  const keys = Object.keys(m);
  if (keys.length === 0) return noStrings;
  const out: Record<string, string> = {};
  for (const k of keys) {
    const value = m[k];
    if (typeof value !== 'string' || k === '__proto__') return undefined;
    out[k] = value;
  }
  return out;
}

/** Metadata as `ObjectMeta` gives it, or undefined. */
export function plainMeta(v: unknown): ObjectMeta | undefined {
  const m = plainObject(v);
  if (!m) return undefined;
  const { name, namespace } = m;
  if (typeof name !== 'string' || name.length > 253 || !namePattern.test(name)) return undefined;
  const labels = plainStringMap(m.labels);
  const annotations = labels && plainStringMap(m.annotations);
  if (!annotations) return undefined;
  if (namespace === undefined) return 'namespace' in m ? undefined : { name, labels: labels!, annotations };
  return typeof namespace === 'string' ? { name, namespace, labels: labels!, annotations } : undefined;
}

/** A list of strings each passing `ok` (a copy), or undefined. */
export function plainStrings(v: unknown, ok: (s: string) => boolean): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (v.length === 0) return none;
  const out: string[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'string' || !ok(s)) return undefined;
    out[i] = s;
  }
  return out;
}

/**
 * The value of a dotted-quad IPv4 address (four parts 0..255 of one to three digits each, leading
 * zeros allowed), or -1. Read character by character, without a regular expression or
 * substrings: every address of a cluster passes here.
 */
export function ipv4Value(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}

/**
 * True when `text` is a plain IPv4 or IPv6 address (IPv4 in dotted-quad form only, as ipaddr.js's
 * `isValidFourPartDecimal`). Every address of a manifest passes here: IPv4 is checked without
 * ipaddr.js, whose parser builds objects, and IPv6 with one parse. An IPv6 zone id
 * (`fe80::1%eth0`) is refused: Go's net.ParseIP refuses it too, and BIRD cannot take it in a
 * neighbor line or a protocol name.
 */
export function isIp(text: string): boolean {
  if (ipv4Value(text) >= 0) return true;
  return text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text);
}

/** The message for an address with an IPv6 zone id, which no field accepts. */
export function zoneIdMessage(text: string): string {
  return `a zone id (%...) is not allowed in an IP address: ${JSON.stringify(text.slice(0, 80))}`;
}

/** True when `text` is `address/length` with a valid address and prefix length. */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1))) return false;
  const addr = text.slice(0, slash);
  if (!isIp(addr)) return false;
  const len = Number(text.slice(slash + 1));
  return len <= (addr.includes(':') ? 128 : 32);
}

/** A string schema checked by `ok`, with the zone-id message where a `%` is the reason. */
function addressText(ok: (s: string) => boolean, message: string) {
  return z.string().superRefine((s, ctx) => {
    if (!ok(s)) ctx.addIssue({ code: 'custom', message: s.includes('%') ? zoneIdMessage(s) : message });
  });
}

/** True when `text` is an IP address, or an IP with a prefix length. */
export const isIpOrCidr = (text: string) => (text.includes('/') ? isCidr(text) : isIp(text));

/** An IP address, or an IP with a prefix length (a bare IP is a host route). */
export const IpOrCidr = addressText(isIpOrCidr, 'not an IP address or CIDR');
/** A CIDR such as 10.0.0.0/16. */
export const Cidr = addressText(isCidr, 'not a CIDR (address/length)');
/** A plain IP address (no prefix length). */
export const IpAddress = addressText(isIp, 'not an IP address');

/**
 * True when `text` is a network with no host bits set, or a bare address (a full-length
 * network): Calico's `net` rule. `family` restricts it to IPv4 or IPv6.
 */
export function isMaskedNet(text: string, family?: 'ipv4' | 'ipv6'): boolean {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  if (!isIp(addr) || (slash >= 0 && !isCidr(text))) return false;
  const v6 = addr.includes(':');
  if (family && (family === 'ipv6') !== v6) return false;
  if (slash < 0) return true;
  const bytes = ipaddr.parse(addr).toByteArray();
  const length = Number(text.slice(slash + 1));
  for (let bit = length; bit < bytes.length * 8; bit++) if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  return true;
}

/** A masked network or a bare address (Calico's `net` rule), e.g. a service LoadBalancer range. */
export const MaskedNet = addressText((s) => isMaskedNet(s), 'not a network without host bits (address/length) or an IP address');

/**
 * A Kubernetes resource name as bird-confd accepts it in references (`BGPPeer.spec.filters`),
 * the same characters as `metadata.name`: they reach BIRD as quoted symbols.
 */
export const ResourceName = z
  .string()
  .max(253, 'a name is at most 253 characters')
  .regex(namePattern, 'not a resource name (letters, digits, "-", "_" and ".", starting and ending with a letter or digit)');

/** One of a few words, with a message that lists them. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

/** An optional field read as its value or null (absent and null are the same). */
export function orNull<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v): z.output<T> | null => v ?? null);
}

/** A whole number in `min..max`, with a message that names the range. */
export function intIn(min: number, max: number) {
  const message = `must be a whole number ${min}..${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
}

/** A route priority as Calico's APIs give it (BGPConfiguration, BGPFilter): 1..2147483646. */
export const RoutePriority = intIn(1, 2147483646);

/** A BGP community value: `aa:nn` with 16-bit parts or `aa:nn:mm` with 32-bit parts. */
export const CommunityValue = z
  .string()
  .max(32, 'a community value is at most 32 characters')
  .refine(isCommunityValue, 'not a community value (aa:nn with parts 0..65535, or aa:nn:mm with parts 0..4294967295)');

/** True when `text` is `aa:nn` (16-bit parts) or `aa:nn:mm` (32-bit parts), plain decimal. */
export function isCommunityValue(text: string): boolean {
  const parts = text.split(':');
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((p) => /^(0|[1-9]\d{0,9})$/.test(p))) return false;
  const max = parts.length === 2 ? 65535 : 4294967295;
  return parts.every((p) => Number(p) <= max);
}

/**
 * An AS number: a decimal 0..4294967295, or the dotted `a.b` notation Calico accepts
 * (stored as a*65536+b). Normalized to its decimal text.
 */
export const AsNumber = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const text = String(v).trim();
    let n = NaN;
    const dotted = /^(\d{1,5})\.(\d{1,5})$/.exec(text);
    if (dotted) {
      const hi = Number(dotted[1]);
      const lo = Number(dotted[2]);
      n = hi <= 65535 && lo <= 65535 ? hi * 65536 + lo : NaN;
    } else if (/^\d{1,10}$/.test(text)) {
      n = Number(text);
    }
    if (!Number.isInteger(n) || n < 0 || n > 4294967295) {
      ctx.addIssue({ code: 'custom', message: `AS number out of range (0..4294967295 or a.b): ${JSON.stringify(String(v)).slice(0, 40)}` });
      return z.NEVER;
    }
    return String(n);
  });

/** A TCP port: a plain decimal 1..65535. */
export const Port = z
  .number()
  .int('a port is a whole number')
  .min(1, 'a port is between 1 and 65535')
  .max(65535, 'a port is between 1 and 65535');

