import { z } from 'zod';
import { AsNumber, CommunityValue, ObjectMeta, RoutePriority, intIn, isIp, isMaskedNet, oneOf, orNull, zoneIdMessage } from './common.js';

/** What a filter rule does with a matching route. */
export const FilterAction = oneOf(['Accept', 'Reject']);
export type FilterAction = z.infer<typeof FilterAction>;
/** How a rule's `cidr` is compared with the route's prefix. */
export const MatchOperator = oneOf(['Equal', 'NotEqual', 'In', 'NotIn']);
export type MatchOperator = z.infer<typeof MatchOperator>;

/**
 * One route change before accepting, as a tagged union: `addCommunity` (a community value),
 * `prependASPath` (AS numbers as decimal text, in the order the path will start with),
 * `setPriority` (1..2147483646).
 */
export type FilterOperation =
  | { readonly type: 'addCommunity'; readonly value: string }
  | { readonly type: 'prependASPath'; readonly prefix: readonly string[] }
  | { readonly type: 'setPriority'; readonly value: number };

const Operation = z
  .object({
    addCommunity: orNull(z.object({ value: CommunityValue })),
    prependASPath: orNull(z.object({ prefix: z.array(AsNumber).min(1, 'needs 1..10 AS numbers').max(10, 'needs 1..10 AS numbers') })),
    setPriority: orNull(z.object({ value: RoutePriority })),
  })
  .transform((o, ctx): FilterOperation => {
    const set = [o.addCommunity, o.prependASPath, o.setPriority].filter((x) => x !== null).length;
    if (set !== 1) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of addCommunity, prependASPath, setPriority' });
      return z.NEVER;
    }
    if (o.addCommunity) return { type: 'addCommunity', value: o.addCommunity.value };
    if (o.prependASPath) return { type: 'prependASPath', prefix: o.prependASPath.prefix };
    return { type: 'setPriority', value: o.setPriority!.value };
  });

/**
 * An interface glob BIRD matches `ifname` against inside a string: `*`, or 1..15 characters from
 * letters, digits, `_ . * -` (so nothing can end the string or the statement).
 */
const FilterInterface = z.string().regex(/^[a-zA-Z0-9_.*-]{1,15}$/, 'must be "*" or 1..15 characters from letters, digits, "_", ".", "*" and "-"');

/** A rule's fields, for the IPv4 or the IPv6 lists. */
function ruleFields(family: 'ipv4' | 'ipv6') {
  const maxLength = family === 'ipv4' ? 32 : 128;
  const cidrMax = family === 'ipv4' ? 18 : 43;
  const familyName = family === 'ipv4' ? 'IPv4' : 'IPv6';
  const cidr = z.string().superRefine((s, ctx) => {
    const ok = s.length <= cidrMax && isMaskedNet(s, family);
    if (!ok) ctx.addIssue({ code: 'custom', message: s.includes('%') ? zoneIdMessage(s) : `not an ${familyName} network without host bits (address/length, at most ${cidrMax} characters) or ${familyName} address` });
  });
  return z.object({
    action: FilterAction,
    // Kept as written: Calico prints it verbatim into the filter (`5000::0/64` stays so).
    cidr: orNull(cidr),
    matchOperator: orNull(MatchOperator),
    prefixLength: orNull(z.object({ min: orNull(intIn(0, maxLength)), max: orNull(intIn(0, maxLength)) })),
    source: orNull(oneOf(['RemotePeers'])),
    interface: orNull(FilterInterface),
    peerType: orNull(oneOf(['eBGP', 'iBGP'])),
    communities: orNull(z.object({ values: z.array(CommunityValue).length(1, 'needs exactly one value') })),
    asPathPrefix: z.array(AsNumber).nullish().transform((a) => a ?? []),
    priority: orNull(RoutePriority),
    operations: z.array(Operation).max(10, 'at most 10 operations').nullish().transform((o) => o ?? []),
  });
}

type RuleFields = z.infer<ReturnType<typeof ruleFields>>;

/** Calico's rule checks (validator and CRD rules), plus the one confd fails on: prefixLength needs a real CIDR. */
function ruleChecks(r: RuleFields, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (r.cidr !== null && r.matchOperator === null) issue('matchOperator', 'required with cidr');
  if (r.cidr === null && r.matchOperator !== null) issue('matchOperator', 'needs cidr');
  if (r.prefixLength !== null && r.cidr === null) issue('prefixLength', 'needs cidr');
  if (r.prefixLength !== null && r.cidr !== null && isIp(r.cidr)) issue('cidr', 'must be address/length when prefixLength is set');
  if (r.operations.length > 0 && r.action !== 'Accept') issue('operations', 'only allowed with action Accept');
  if (r.prefixLength !== null && r.cidr !== null && !isIp(r.cidr)) {
    // Calico prints `{max(len, min), min(maxLen, max)}`; BIRD refuses a range whose start is above its end.
    const length = Number(r.cidr.slice(r.cidr.indexOf('/') + 1));
    const from = Math.max(length, r.prefixLength.min ?? length);
    const to = Math.min(r.cidr.includes(':') ? 128 : 32, r.prefixLength.max ?? 128);
    if (from > to) issue('prefixLength', `the range {${from},${to}} (min raised to the cidr's length ${length}) is empty; BIRD refuses it`);
  }
}

/** A BGPFilter rule for IPv4 routes (`exportV4`, `importV4`). */
export const BGPFilterRuleV4 = ruleFields('ipv4').superRefine(ruleChecks);
/** A BGPFilter rule for IPv6 routes (`exportV6`, `importV6`). */
export const BGPFilterRuleV6 = ruleFields('ipv6').superRefine(ruleChecks);
/** One rule, as the view reads it (same shape for both families). */
export type BGPFilterRule = z.infer<typeof BGPFilterRuleV4>;

const rules = <T extends z.ZodType>(rule: T) => z.array(rule).nullish().transform((r): z.output<T>[] => r ?? []);

/** Calico BGPFilter resource (cluster-scoped): four ordered rule lists, each empty when not set. */
export const BGPFilter = z.object({
  kind: z.literal('BGPFilter'),
  metadata: ObjectMeta,
  spec: z.preprocess(
    (s) => s ?? {},
    z.object({ exportV4: rules(BGPFilterRuleV4), importV4: rules(BGPFilterRuleV4), exportV6: rules(BGPFilterRuleV6), importV6: rules(BGPFilterRuleV6) }),
  ),
});
export type BGPFilter = z.infer<typeof BGPFilter>;
