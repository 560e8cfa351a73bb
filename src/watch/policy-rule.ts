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
export type RuleAction = 'added' | 'removed' | 'present' | 'absent';

/** The rule's priority: before the main table (32766), after the local table (0). */
export const LOOP_RULE_PRIORITY = 1000;

/**
 * Keeps exactly one policy rule `not iif lo lookup TABLE` per family while loop prevention is on,
 * and none when it is off. Only forwarded packets consult the table: traffic the node originates
 * is routed before kube-proxy's DNAT in OUTPUT, and must never meet a service blackhole.
 */
export async function syncLoopPreventionRule(enabled: boolean, table: number, family: 4 | 6, ip: IpRunner = hostIp): Promise<RuleAction> {
  const shown = await ip([`-${family}`, 'rule', 'show']);
  const ours = shown.split('\n').filter((l) => /\bnot\b.*\biif lo lookup /.test(l) && new RegExp(`lookup ${table}\\b`).test(l));
  if (enabled && ours.length === 1) return 'present';
  // Remove every copy (a duplicate from a crash, or the rule when disabled), then add one if needed.
  for (let i = 0; i < ours.length; i++) await ip([`-${family}`, 'rule', 'del', 'not', 'iif', 'lo', 'lookup', String(table)]);
  if (!enabled) return ours.length > 0 ? 'removed' : 'absent';
  await ip([`-${family}`, 'rule', 'add', 'not', 'iif', 'lo', 'lookup', String(table), 'priority', String(LOOP_RULE_PRIORITY)]);
  return 'added';
}

/** An after-render step that keeps both families' loop-prevention rules in step with the view (changes are logged). */
export function loopPreventionRules(logger: Logger, ip: IpRunner = hostIp): (view: NodeView) => Promise<void> {
  return async (view) => {
    for (const f of [view.ipv4, view.ipv6]) {
      const lp = f.loopPrevention;
      const action = await syncLoopPreventionRule(lp.enabled, lp.kernelTable, f.family === 'ipv4' ? 4 : 6, ip);
      if (action === 'added' || action === 'removed') logger.info({ family: f.family, table: lp.kernelTable, action }, 'loop prevention policy rule');
    }
  };
}
