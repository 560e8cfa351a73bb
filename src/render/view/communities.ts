import type { BGPConfiguration } from '../../model/bgp-configuration.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import { compareText } from '../../model/sorted.js';
import { familyOfText, parseNetwork, type Family } from '../addresses.js';
import type { CommunityRule } from './view-types.js';

const standard = /^(\d+):(\d+)$/;
const large = /^(\d+):(\d+):(\d+)$/;

/** The BIRD statement adding a community value, or null when the value is not a valid community. */
export function communityStatement(value: string): string | null {
  const s = standard.exec(value);
  if (s && s.slice(1).every((p) => Number(p) <= 65535)) return `bgp_community.add((${Number(s[1])}, ${Number(s[2])}));`;
  const l = large.exec(value);
  if (l && l.slice(1).every((p) => Number(p) <= 4294967295)) return `bgp_large_community.add((${Number(l[1])}, ${Number(l[2])}, ${Number(l[3])}));`;
  return null;
}

/**
 * The `apply_communities` rules of one family. The node-level BGPConfiguration wins over the
 * global one for both families as soon as it has prefixAdvertisements (Calico's precedence, even
 * when it leaves a family empty). Names resolve only within the same resource. Values keep their
 * first-occurrence order (v3.17), or are sorted as text, and a prefix left without any is dropped
 * (v3.32, `sortedValues`).
 */
export function communityRules(global: BGPConfiguration | undefined, node: BGPConfiguration | undefined, family: Family, diagnostics: Diagnostic[], sortedValues = false): CommunityRule[] {
  const source = node?.spec.prefixAdvertisements ? node : global?.spec.prefixAdvertisements ? global : undefined;
  if (!source) return [];
  const object = `BGPConfiguration/${source.metadata.name}`;
  const names = new Map((source.spec.communities ?? []).map((c) => [c.name, c.value]));
  const rules: CommunityRule[] = [];
  source.spec.prefixAdvertisements!.forEach((adv, i) => {
    if (familyOfText(adv.cidr) !== family) return;
    const net = parseNetwork(adv.cidr)!;
    const values: string[] = [];
    adv.communities.forEach((entry, j) => {
      const field = `spec.prefixAdvertisements[${i}].communities[${j}]`;
      const literal = standard.test(entry) || large.test(entry);
      const value = literal ? entry : names.get(entry);
      if (value === undefined) {
        diagnostics.push({ severity: 'warning', object, field, message: `community name ${JSON.stringify(entry.slice(0, 64))} is not defined in this resource; dropped` });
        return;
      }
      if (!communityStatement(value)) {
        diagnostics.push({ severity: 'error', object, field, message: 'not a community (aa:nn with 16-bit parts, or aa:nn:mm with 32-bit parts); dropped' });
        return;
      }
      values.push(value);
    });
    const statements = [...new Set((sortedValues ? [...values].sort(compareText) : values).map((v) => communityStatement(v)!))];
    if (!sortedValues || statements.length > 0) rules.push({ cidr: net.cidr, statements });
  });
  return rules;
}
