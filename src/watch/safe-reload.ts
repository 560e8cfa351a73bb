import type { BirdControl } from './bird-control.js';

/** How a reload is made safe. */
export interface SafeReloadOptions {
  /** `timeout`: `configure timeout N`, confirmed once sessions are back; `plain`: `configure`. */
  readonly mode: 'timeout' | 'plain';
  /** Seconds after which BIRD undoes an unconfirmed change by itself (also if this process dies). */
  readonly timeoutSeconds: number;
  /** How long the sessions that were Established get to come back before the change is undone. */
  readonly graceMs: number;
  readonly pollMs?: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Defaults: BIRD gives up after 120 s; sessions get 60 s to come back. */
export const defaultSafeReload: SafeReloadOptions = { mode: 'timeout', timeoutSeconds: 120, graceMs: 60_000, pollMs: 500 };

/** What a reload did. */
export type ReloadOutcome =
  | { readonly outcome: 'reloaded' }
  | { readonly outcome: 'confirmed'; readonly sessions: readonly string[] }
  | { readonly outcome: 'rolled-back'; readonly lost: readonly string[] };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reloads BIRD's (already swapped) config without risking working sessions: `configure check`
 * first (a rejected config throws and nothing changes), then `configure timeout N`; once every
 * BGP session that was Established before and still exists is Established again, `configure
 * confirm`. If one does not come back within the grace period, `configure undo` returns to the
 * old config at once (and BIRD would undo it by itself after N seconds anyway).
 */
export async function safeReload(control: BirdControl, options: SafeReloadOptions = defaultSafeReload): Promise<ReloadOutcome> {
  await control.command('configure check');
  if (options.mode === 'plain') {
    await control.configure();
    return { outcome: 'reloaded' };
  }
  const sleep = options.sleep ?? realSleep;
  const before = new Set((await control.protocols()).filter((p) => p.bgp?.state === 'Established').map((p) => p.name));
  await control.command(`configure timeout ${Math.max(1, Math.round(options.timeoutSeconds))}`);
  const deadline = Date.now() + options.graceMs;
  let lost: string[] = [];
  for (;;) {
    // Give restarted sessions a moment to leave Established before judging them.
    await sleep(options.pollMs ?? 500);
    const now = await control.protocols();
    const names = new Set(now.map((p) => p.name));
    lost = [...before].filter((name) => names.has(name) && now.find((p) => p.name === name)?.bgp?.state !== 'Established');
    if (lost.length === 0) {
      await control.command('configure confirm');
      return { outcome: 'confirmed', sessions: [...before].filter((n) => names.has(n)) };
    }
    if (Date.now() >= deadline) break;
  }
  await control.command('configure undo');
  return { outcome: 'rolled-back', lost };
}
