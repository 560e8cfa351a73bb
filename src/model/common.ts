import { z } from 'zod';
import ipaddr from 'ipaddr.js';

/** Label and annotation maps; YAML scalars such as `true` or `1` are read as their text, as Kubernetes would store them. */
export const StringMap = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .nullish()
  .transform((m) => m ?? {});
export type StringMap = z.infer<typeof StringMap>;

/** The metadata fields bird-confd reads. */
export const ObjectMeta = z.object({
  // Names reach comments and file content: keep them to what Kubernetes allows (plus `_` and
  // upper case, which Calico tolerates), so no name can carry a line break or a quote.
  name: z
    .string()
    .min(1, 'metadata.name is required')
    .max(253, 'metadata.name is longer than 253 characters')
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'metadata.name must be letters, digits, "-", "_" and ".", starting and ending with a letter or digit'),
  namespace: z.string().nullish(),
  labels: StringMap,
  annotations: StringMap,
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

const dottedQuad = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/**
 * True when `text` is a plain IPv4 or IPv6 address (IPv4 in dotted-quad form only, as ipaddr.js's
 * `isValidFourPartDecimal`). Every address of a manifest passes here: IPv4 is checked without
 * ipaddr.js, whose parser builds objects, and IPv6 with one parse.
 */
export function isIp(text: string): boolean {
  const quad = dottedQuad.exec(text);
  if (quad) return Number(quad[1]) <= 255 && Number(quad[2]) <= 255 && Number(quad[3]) <= 255 && Number(quad[4]) <= 255;
  return text.includes(':') && ipaddr.IPv6.isValid(text);
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

/** An IP address, or an IP with a prefix length (a bare IP is a host route). */
export const IpOrCidr = z.string().refine((s) => (s.includes('/') ? isCidr(s) : isIp(s)), 'not an IP address or CIDR');
/** A CIDR such as 10.0.0.0/16. */
export const Cidr = z.string().refine(isCidr, 'not a CIDR (address/length)');

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

