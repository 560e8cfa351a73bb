import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { NodeView } from '../render/view/view-types.js';

/** Runs `ip` with arguments; injectable so tests can target a network namespace. */
export type IpRunner = (args: readonly string[]) => Promise<string>;

/** `ip` on this host. */
export const hostIp: IpRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', [...args], (err, stdout, stderr) => (err ? reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
  });

/** What was done to the policy rule. */
export type RuleAction = 'added' | 'removed' | 'replaced' | 'present' | 'absent';

/** The rule's priority: before the main table (32766), after the local table (0). */
export const LOOP_RULE_PRIORITY = 1000;

/**
 * Keeps exactly one policy rule `not iif lo lookup TABLE` per family while loop prevention is on,
 * and none when it is off. Only forwarded packets consult the table: traffic the node originates
 * is routed before kube-proxy's DNAT in OUTPUT, and must never meet a service blackhole. A rule of
 * that form at this priority for another table is an earlier one of ours (the table was changed):
 * it goes too.
 */
export async function syncLoopPreventionRule(enabled: boolean, table: number, family: 4 | 6, ip: IpRunner = hostIp): Promise<RuleAction> {
  // Tables as numbers (-N): a table named in rt_tables would otherwise not be recognised.
  const shown = await ip(['-N', `-${family}`, 'rule', 'show']);
  const tables = shown.split('\n').flatMap((l) => {
    const m = new RegExp(`^${LOOP_RULE_PRIORITY}:\\s+not from all iif lo lookup (\\S+)`).exec(l.trim());
    return m ? [m[1]!] : [];
  });
  const current = tables.filter((t) => t === String(table));
  const stale = tables.filter((t) => t !== String(table));
  if (enabled && current.length === 1 && stale.length === 0) return 'present';
  // Remove every copy (a duplicate from a crash, an old table's, or the rule when disabled), then add one if needed.
  const del = (t: string) => ip([`-${family}`, 'rule', 'del', 'priority', String(LOOP_RULE_PRIORITY), 'not', 'iif', 'lo', 'lookup', t]);
  for (const t of stale) await del(t);
  for (const t of enabled ? current.slice(1) : current) await del(t);
  if (!enabled) return tables.length > 0 ? 'removed' : 'absent';
  if (current.length >= 1) return stale.length > 0 ? 'replaced' : 'present';
  await ip([`-${family}`, 'rule', 'add', 'not', 'iif', 'lo', 'lookup', String(table), 'priority', String(LOOP_RULE_PRIORITY)]);
  return 'added';
}

/**
 * An after-render step that keeps both families' loop-prevention rules in step with the view
 * (changes are logged). `ip` runs only where a rule is wanted or may be left over: while loop
 * prevention is on, and when it is off but was on before: earlier in this run, or in the run that
 * wrote the files found at start (`inPlace`: their names; a loop file among them means that run
 * kept a rule). Off from the start, it never runs `ip`: a pod without iproute2 or NET_ADMIN (the
 * default deployment) works, and nothing fails.
 */
export function loopPreventionRules(logger: Logger, inPlace: ReadonlySet<string> = new Set(), ip: IpRunner = hostIp): (view: NodeView) => Promise<void> {
  const mayExist = new Map<4 | 6, boolean>();
  return async (view) => {
    for (const f of [view.ipv4, view.ipv6]) {
      const lp = f.loopPrevention;
      const family = f.family === 'ipv4' ? 4 : 6;
      if (!lp.enabled && !(mayExist.get(family) ?? inPlace.has(f.files.loop))) continue;
      // Set before the change: a failed removal is tried again on the next render.
      mayExist.set(family, true);
      const action = await syncLoopPreventionRule(lp.enabled, lp.kernelTable, family, ip);
      mayExist.set(family, lp.enabled);
      if (action === 'added' || action === 'removed' || action === 'replaced') logger.info({ family: f.family, table: lp.kernelTable, action }, 'loop prevention policy rule');
    }
  };
}
