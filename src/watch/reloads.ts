import type { Logger } from 'pino';
import { setHash } from './apply.js';
import type { DaemonMetrics } from './metrics.js';
import type { ReloadOutcome } from './safe-reload.js';
import { defaultBackoff, type Backoff } from './source.js';
import { readStatusFile, writeStatusFile, type Rollback } from './status-file.js';

/** An address family, and the BIRD daemon that serves it. */
export type Family = 'ipv4' | 'ipv6';
/** A file set by name. */
export type Files = ReadonlyMap<string, string>;

/** The BIRD daemon of a family. */
export const daemonOf = (family: Family): 'bird' | 'bird6' => (family === 'ipv4' ? 'bird' : 'bird6');

/** What one reload is about: the set BIRD last loaded (null when unknown) and the set in place now. */
export interface ReloadRequest {
  readonly before: Files | null;
  readonly after: Files;
}

/** How one BIRD daemon is reloaded after its files changed. */
export type Reloader = (family: Family, request: ReloadRequest, signal: AbortSignal) => Promise<ReloadOutcome>;

/** What the reload bookkeeping needs. */
export interface ReloadsConfig {
  readonly reload: Reloader | null;
  readonly out: string;
  readonly logger: Logger;
  readonly metrics?: DaemonMetrics;
  readonly backoff?: Backoff;
}

/**
 * Which BIRD daemons need a reload, what each last loaded, and which runs the previous config
 * because its reload was undone. An undone reload is never retried on the same files: the daemon
 * waits for the next change (or a restart), and reports the undo in the log, the metrics,
 * `/readyz` and the status file that `bird-confd status` reads.
 */
export class Reloads {
  readonly pending = new Set<Family>();
  /** Reloads that went through (any outcome but a failure). */
  count = 0;
  lastError: string | null = null;
  private readonly loaded = new Map<Family, Files>();
  private readonly rolledBack = new Map<Family, Rollback>();
  private attempt = 0;

  constructor(private readonly config: ReloadsConfig) {
    if (!config.reload) return;
    const recorded = readStatusFile(config.out).rolledBack;
    if (recorded.bird) this.rolledBack.set('ipv4', recorded.bird);
    if (recorded.bird6) this.rolledBack.set('ipv6', recorded.bird6);
  }

  /** Records the set found in place at start as what BIRD runs (the best guess before any reload). */
  assumeLoaded(files: Files): void {
    for (const family of ['ipv4', 'ipv6'] as const) if (!this.loaded.has(family)) this.loaded.set(family, files);
  }

  /** Marks the daemons whose files differ between two sets. */
  changed(before: Files, after: Files): void {
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(name) !== after.get(name)) this.pending.add(name.startsWith('bird6') ? 'ipv6' : 'ipv4');
    }
  }

  /** Undone reloads by daemon, for health and status. */
  rollbacks(): ReadonlyMap<Family, Rollback> {
    return this.rolledBack;
  }

  /** Forgets an undo: BIRD was found running the files in place. */
  inSync(family: Family, applied: Files): void {
    this.loaded.set(family, applied);
    if (this.rolledBack.delete(family)) this.saveStatus();
  }

  /** Runs the pending reloads; returns the back-off delay when one failed (retry), else null. */
  async run(applied: Files, signal: AbortSignal): Promise<number | null> {
    const reload = this.config.reload;
    if (!reload) {
      this.pending.clear();
      return null;
    }
    for (const family of [...this.pending]) {
      if (signal.aborted) return null;
      try {
        const outcome = await reload(family, { before: this.loaded.get(family) ?? null, after: applied }, signal);
        this.pending.delete(family);
        this.count++;
        this.settled(family, outcome, applied);
      } catch (err) {
        this.config.metrics?.reloads.inc({ daemon: daemonOf(family), result: 'failed' });
        this.lastError = (err as Error).message;
        this.config.logger.error({ err, daemon: daemonOf(family) }, 'reload failed; will retry');
      }
    }
    if (this.pending.size === 0) {
      this.attempt = 0;
      return null;
    }
    return this.nextBackoff();
  }

  /** The next retry delay: it grows while applies or reloads keep failing, and starts over once all went through. */
  nextBackoff(): number {
    return (this.config.backoff ?? defaultBackoff)(this.attempt++);
  }

  private settled(family: Family, outcome: ReloadOutcome, applied: Files): void {
    const { logger, metrics } = this.config;
    const daemon = daemonOf(family);
    if (outcome.outcome === 'abandoned') {
      logger.warn({ daemon }, 'stopped during the grace period: BIRD undoes the change when its timeout ends unless it was confirmed; the next start compares and reloads');
      return;
    }
    if (outcome.outcome === 'rolled-back') {
      const record: Rollback = { at: new Date().toISOString(), lost: [...outcome.lost], undone: setHash(applied).slice(0, 16) };
      this.rolledBack.set(family, record);
      this.saveStatus();
      metrics?.reloads.inc({ daemon, result: 'rolled_back' });
      metrics?.rollbacks.inc({ daemon });
      logger.error({ daemon, sessions: record.lost, undone: record.undone }, `reload undone: ${record.lost.join(', ')} did not come back within the grace period; ${daemon} runs the previous config until the next change`);
      return;
    }
    this.loaded.set(family, applied);
    this.lastError = null;
    metrics?.reloads.inc({ daemon, result: 'ok' });
    logger.info({ daemon, outcome: outcome.outcome }, 'reloaded');
    if (this.rolledBack.delete(family)) {
      this.saveStatus();
      logger.info({ daemon }, `${daemon} runs the files in place again (the earlier undo is over)`);
    }
  }

  private saveStatus(): void {
    try {
      writeStatusFile(this.config.out, { rolledBack: { bird: this.rolledBack.get('ipv4'), bird6: this.rolledBack.get('ipv6') } });
    } catch (err) {
      this.config.logger.error({ err }, 'cannot write the status file');
    }
  }
}
