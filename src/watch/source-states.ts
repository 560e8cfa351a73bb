import type { Logger } from 'pino';
import { formatDiagnostic } from '../model/diagnostics.js';
import { idOf, type Resource, type ResourceId } from '../model/resources.js';
import { UNCHANGED, type Snapshot } from '../model/snapshot.js';
import type { Change } from '../render/impact.js';
import type { DaemonMetrics } from './metrics.js';
import type { SourceEvent } from './source.js';

function keyOf(id: ResourceId): string {
  return `${id.kind}/${id.namespace}/${id.name}`;
}

/**
 * Merges every source's events into the snapshot and keeps each source's sync state. The state
 * is logged once per transition: down (with the first reason), back up (with how long it was
 * down), listed again; retries while down are logged at debug level only, so an outage costs a
 * few lines, not one per attempt.
 */
export class SourceStates {
  private readonly owned = new Map<string, Map<string, Resource>>();
  private readonly resetting = new Map<string, Set<string>>();
  private readonly synced = new Set<string>();
  private readonly everSynced = new Set<string>();
  /** When each source that is out of sync now lost it. */
  private readonly outSince = new Map<string, number>();

  constructor(
    private readonly snapshot: Snapshot,
    private readonly logger: Logger,
    private readonly metrics: DaemonMetrics | undefined,
    private readonly changed: (change: Change) => void,
  ) {}

  /** Registers a source before it starts. */
  add(source: string): void {
    this.owned.set(source, new Map());
    this.metrics?.sourceSynced.set({ source }, 0);
  }

  /** Whether every registered source has delivered a complete list and is watching now. */
  allSynced(): boolean {
    return this.synced.size === this.owned.size;
  }

  /** Whether every registered source has completed a first list (it may be reconnecting now). */
  allSyncedOnce(): boolean {
    return this.everSynced.size === this.owned.size;
  }

  /** Sources that have been out of sync for at least `ms` (a short blip does not count). */
  degraded(ms: number, now = Date.now()): string[] {
    return [...this.outSince].filter(([, since]) => now - since >= ms).map(([source]) => source);
  }

  /** Handles one event of `source`. */
  handle(source: string, e: SourceEvent): void {
    switch (e.type) {
      case 'upsert':
        return this.upsert(source, e.resource);
      case 'delete':
        return this.remove(source, e.id);
      case 'reset':
        // What the source held and does not list again is gone at its `synced`; a source that holds
        // nothing yet (its first list) has nothing to lose, and its listed keys need no tracking.
        if (this.owned.get(source)!.size > 0) this.resetting.set(source, new Set());
        else this.resetting.delete(source);
        this.synced.delete(source);
        if (this.everSynced.has(source)) this.logger.info({ source, reason: e.reason }, 'source lists again');
        return;
      case 'synced':
        return this.listed(source);
      case 'problem':
        this.logger.warn({ source }, formatDiagnostic(e.diagnostic));
        return;
      case 'status':
        return e.state === 'disconnected' ? this.down(source, e.detail) : this.up(source, e.detail);
    }
  }

  private upsert(source: string, resource: Resource): void {
    const key = keyOf(idOf(resource));
    this.owned.get(source)!.set(key, resource);
    this.resetting.get(source)?.add(key);
    const before = this.snapshot.put(resource);
    if (before !== UNCHANGED) this.changed({ before, after: resource });
  }

  private remove(source: string, id: ResourceId): void {
    this.owned.get(source)!.delete(keyOf(id));
    const before = this.snapshot.take(id);
    if (before) this.changed({ before, after: null });
  }

  /** A complete list: what the source held and did not list again since its reset is gone. */
  private listed(source: string): void {
    const seen = this.resetting.get(source);
    if (seen) {
      for (const [k, resource] of [...this.owned.get(source)!]) if (!seen.has(k)) this.remove(source, idOf(resource));
      this.resetting.delete(source);
    }
    const since = this.outSince.get(source);
    this.logger.info({ source, ...(since === undefined ? {} : { downSeconds: seconds(since) }) }, 'source synced');
    this.markUp(source);
    this.everSynced.add(source);
  }

  private down(source: string, detail: string | undefined): void {
    this.synced.delete(source);
    this.metrics?.sourceSynced.set({ source }, 0);
    if (this.outSince.has(source)) {
      this.logger.debug({ source, detail }, 'source still down');
      return;
    }
    this.outSince.set(source, Date.now());
    this.logger.warn({ source, detail }, 'source down: the last good files stay');
  }

  private up(source: string, detail: string | undefined): void {
    // A source says something about its state worth knowing (e.g. a folder that does not exist yet).
    if (detail) this.logger.info({ source, detail }, 'source status');
    // Watching again after a disconnect, without a new list: in sync again (a list ends in `synced`).
    if (!this.everSynced.has(source) || this.resetting.has(source)) return;
    const since = this.outSince.get(source);
    if (since !== undefined) this.logger.info({ source, downSeconds: seconds(since) }, 'source back up');
    this.markUp(source);
  }

  private markUp(source: string): void {
    this.synced.add(source);
    this.outSince.delete(source);
    this.metrics?.sourceSynced.set({ source }, 1);
  }
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}
