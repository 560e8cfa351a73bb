import type { ProtocolStatus } from '../inspect/bird-replies.js';
import type { BirdControl } from './bird-control.js';

/** How a reload is made safe. */
export interface SafeReloadOptions {
  /** `timeout`: `configure timeout N`, confirmed once sessions are back; `plain`: `configure`. */
  readonly mode: 'timeout' | 'plain';
  /** Seconds after which BIRD undoes an unconfirmed change by itself (also if this process dies). */
  readonly timeoutSeconds: number;
  /** How long the sessions that were Established get to come back before the change is undone. */
  readonly graceMs: number;
  /**
   * How long the judged sessions must stay Established, without a restart, before the change is
   * confirmed: a change can take a moment to break a session (the peer gets the new routes and
   * shuts the session down over its prefix limit). At most the grace period.
   */
  readonly settleMs?: number;
  readonly pollMs?: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The defaults, also of the watch flags: BIRD gives up after 120 s; sessions get 60 s to come back. */
export const defaultSafeReload: SafeReloadOptions = { mode: 'timeout', timeoutSeconds: 120, graceMs: 60_000, settleMs: 3000, pollMs: 500 };

/** What one reload is about. */
export interface SafeReloadRun {
  /** Sessions whose own configuration changed: they may stay down (the peer may need the same change). */
  readonly exempt?: ReadonlySet<string>;
  /** Aborted when the daemon stops: the grace period is abandoned, and BIRD's timeout decides. */
  readonly signal?: AbortSignal;
}

/** What a reload did. */
export type ReloadOutcome =
  | { readonly outcome: 'reloaded' }
  | { readonly outcome: 'confirmed'; readonly sessions: readonly string[] }
  | { readonly outcome: 'rolled-back'; readonly lost: readonly string[] }
  | { readonly outcome: 'abandoned' };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reloads BIRD's (already swapped) config without risking working sessions: `configure check`
 * first (a rejected config throws and nothing changes), then `configure timeout N`; once every
 * BGP session that was Established before, still exists and is not exempt is Established again,
 * `configure confirm`. If one does not come back within the grace period, `configure undo`
 * returns to the old config at once (and BIRD would undo it by itself after N seconds anyway).
 * Sessions that were not Established before are never grounds for an undo.
 */
export async function safeReload(control: BirdControl, options: SafeReloadOptions = defaultSafeReload, run: SafeReloadRun = {}): Promise<ReloadOutcome> {
  await control.command('configure check');
  if (options.mode === 'plain') {
    await control.configure();
    return { outcome: 'reloaded' };
  }
  const sleep = options.sleep ?? realSleep;
  const exempt = run.exempt ?? new Set<string>();
  const before = (await control.protocols()).filter((p) => p.bgp?.state === 'Established' && !exempt.has(p.name)).map((p) => p.name);
  await control.command(`configure timeout ${Math.max(1, Math.round(options.timeoutSeconds))}`);
  const judge = new SessionJudge(before, Math.min(options.settleMs ?? 0, options.graceMs));
  const deadline = Date.now() + options.graceMs;
  for (;;) {
    // Give restarted sessions a moment to leave Established before judging them.
    await sleep(options.pollMs ?? 500);
    if (run.signal?.aborted) return { outcome: 'abandoned' };
    const verdict = judge.look(await control.protocols());
    if (verdict === 'settled' || (verdict === 'up' && Date.now() >= deadline)) {
      await control.command('configure confirm');
      return { outcome: 'confirmed', sessions: judge.present };
    }
    if (Date.now() >= deadline) break;
  }
  await control.command('configure undo');
  return { outcome: 'rolled-back', lost: judge.lost };
}

/** Follows the judged sessions over the polls of one reload. */
class SessionJudge {
  lost: string[] = [];
  present: string[] = [];
  private upSince: number | null = null;
  private readonly since = new Map<string, string>();

  constructor(
    private readonly judged: readonly string[],
    private readonly settleMs: number,
  ) {}

  /** `down` while one is not Established (or restarted); `up` once all are; `settled` once all have stayed up for the settle time. */
  look(protocols: readonly ProtocolStatus[]): 'down' | 'up' | 'settled' {
    const now = new Map(protocols.map((p) => [p.name, p]));
    // A session removed by the change is not judged.
    this.present = this.judged.filter((name) => now.has(name));
    // Down now, or restarted since the last look (down and up again between two looks).
    this.lost = this.present.filter((name) => now.get(name)!.bgp?.state !== 'Established' || (this.since.has(name) && this.since.get(name) !== now.get(name)!.since));
    for (const name of this.present) this.since.set(name, now.get(name)!.since);
    if (this.lost.length > 0) {
      this.upSince = null;
      return 'down';
    }
    this.upSince ??= Date.now();
    return this.present.length === 0 || Date.now() - this.upSince >= this.settleMs ? 'settled' : 'up';
  }
}
