import type { Logger } from 'pino';
import { formatDiagnostic } from '../model/diagnostics.js';
import { idOf, type Resource, type ResourceId } from '../model/resources.js';
import { Snapshot } from '../model/snapshot.js';
import { affectedNodes, affects, impactOptionsOf, type Change } from '../render/impact.js';
import { clusterFacts, RenderStore, renderNode, secretFileNames, type RenderOptions } from '../render/index.js';
import type { ClusterFacts } from '../render/facts/cluster.js';
import type { NodeView } from '../render/view/view-types.js';
import { renderOptions, type RenderSettings } from './template-files.js';
import { applySet, cleanStale, CommandError, readCurrentSet, sameSet, setHash } from './apply.js';
import type { DaemonMetrics } from './metrics.js';
import { defaultBackoff, type Backoff, type Source, type SourceEvent } from './source.js';
import { diagnosticLogger } from './diagnostic-log.js';

/** How one BIRD daemon is reloaded after its files changed. */
export type Reloader = (family: 'ipv4' | 'ipv6') => Promise<string>;

/** The daemon's configuration. */
export interface DaemonConfig {
  readonly node: string;
  readonly out: string;
  readonly sources: readonly Source[];
  readonly render: RenderSettings;
  readonly debounceMs: number;
  /** Check commands by main file name, `{file}` replaced by the staged path. */
  readonly checks: ReadonlyMap<string, string>;
  /** Null: never reload. */
  readonly reload: Reloader | null;
  readonly logger: Logger;
  readonly metrics?: DaemonMetrics;
  readonly backoff?: Backoff;
  /** Runs after a view was rendered (applied or unchanged), e.g. to keep the loop-prevention policy rule in place. */
  readonly afterRender?: (view: NodeView) => Promise<void>;
}

/** What the daemon last did, for status, health and tests. */
export interface DaemonState {
  synced: boolean;
  /** The first render after the first sync has run (applied, skipped or failed). */
  firstRunDone: boolean;
  applies: number;
  reloads: number;
  lastError: string | null;
  lastApplyOk: boolean;
}

function keyOf(id: ResourceId): string {
  return `${id.kind}/${id.namespace}/${id.name}`;
}

/**
 * The watch loop: merges every source's events into one snapshot, renders this node's files when
 * a change can affect them (debounced), and applies a changed set (stage, check, swap, reload once
 * per BIRD daemon). The last good files stay on any failure.
 */
export class Daemon {
  readonly snapshot = new Snapshot();
  readonly state: DaemonState = { synced: false, firstRunDone: false, applies: 0, reloads: 0, lastError: null, lastApplyOk: true };
  private readonly owned = new Map<string, Map<string, ResourceId>>();
  private readonly resetting = new Map<string, Set<string>>();
  private readonly syncedSources = new Set<string>();
  /** When each source that is out of sync now lost it. */
  private readonly outSince = new Map<string, number>();
  private changes: Change[] = [];
  /** The incremental render state of this snapshot lineage: a new one after a source lists again. */
  private store = new RenderStore();
  /** The render options with the templates compiled once, at construction (syntax errors surface at start-up). */
  private readonly renderOptions: RenderOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private applied: Map<string, string> | null = null;
  private pendingReload = new Set<'ipv4' | 'ipv6'>();
  private reloadAttempt = 0;
  private stopped = false;
  private firstRunDone: (() => void) | null = null;
  /** Logs each render's diagnostics, a warning only when it is new (see diagnostic-log.ts). */
  private readonly logDiagnostics: ReturnType<typeof diagnosticLogger>;
  /** Resolves once the first render after every source synced has been applied (or has failed). */
  readonly firstRun = new Promise<void>((resolve) => (this.firstRunDone = resolve));

  constructor(private readonly config: DaemonConfig) {
    this.renderOptions = renderOptions(config.render);
    this.logDiagnostics = diagnosticLogger(config.logger);
  }

  /** Starts every source; renders once all of them have synced. */
  async start(): Promise<void> {
    await cleanStale(this.config.out);
    for (const s of this.config.sources) {
      this.owned.set(s.name, new Map());
      this.config.metrics?.sourceSynced.set({ source: s.name }, 0);
      await s.start((e) => this.onEvent(s.name, e));
    }
  }

  /** Stops sources and timers; waits for an apply in progress (bounded by the caller). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.config.sources.map((s) => s.stop().catch(() => undefined)));
    await this.running;
  }

  /** Whether every source is synced and watching now (false while one is disconnected). */
  allSourcesSynced(): boolean {
    return this.syncedSources.size === this.config.sources.length;
  }

  /** Sources that have been out of sync for at least `ms` (a short blip does not count). */
  degradedSources(ms: number, now = Date.now()): string[] {
    return [...this.outSince].filter(([, since]) => now - since >= ms).map(([source]) => source);
  }

  /** The file set last applied (or found on disk), or null before the first render. */
  appliedFiles(): ReadonlyMap<string, string> | null {
    return this.applied;
  }

  /** Reloads a BIRD daemon on the next turn (e.g. after drift was found), even without a file change. */
  requestReload(family: 'ipv4' | 'ipv6'): void {
    this.pendingReload.add(family);
    this.changes.push({ before: null, after: null });
    this.schedule(0);
  }

  /** Resolves when the render/apply work queued so far is done. */
  idle(): Promise<void> {
    return this.running;
  }

  private onEvent(source: string, e: SourceEvent): void {
    const log = this.config.logger;
    switch (e.type) {
      case 'upsert': {
        const id = idOf(e.resource);
        const before = this.snapshot.get(id.kind, id.name, id.namespace) ?? null;
        this.owned.get(source)!.set(keyOf(id), id);
        this.resetting.get(source)?.add(keyOf(id));
        if (this.snapshot.apply(e.resource)) this.changed({ before: before as Resource | null, after: e.resource });
        break;
      }
      case 'delete': {
        const before = this.snapshot.get(e.id.kind, e.id.name, e.id.namespace) ?? null;
        this.owned.get(source)!.delete(keyOf(e.id));
        if (this.snapshot.delete(e.id)) this.changed({ before: before as Resource | null, after: null });
        break;
      }
      case 'reset':
        this.resetting.set(source, new Set());
        this.store = new RenderStore();
        break;
      case 'synced': {
        const seen = this.resetting.get(source);
        if (seen) {
          for (const [k, id] of [...this.owned.get(source)!]) {
            if (seen.has(k)) continue;
            const before = this.snapshot.get(id.kind, id.name, id.namespace) ?? null;
            this.owned.get(source)!.delete(k);
            if (this.snapshot.delete(id)) this.changed({ before: before as Resource | null, after: null });
          }
          this.resetting.delete(source);
        }
        this.syncedSources.add(source);
        this.outSince.delete(source);
        this.config.metrics?.sourceSynced.set({ source }, 1);
        log.info({ source }, 'source synced');
        if (!this.state.synced && this.syncedSources.size === this.config.sources.length) {
          this.state.synced = true;
          this.changes.push({ before: null, after: null });
          this.schedule(0);
        }
        break;
      }
      case 'problem':
        log.warn({ source }, formatDiagnostic(e.diagnostic));
        break;
      case 'status':
        if (e.state === 'disconnected') {
          this.syncedSources.delete(source);
          if (!this.outSince.has(source)) this.outSince.set(source, Date.now());
          this.config.metrics?.sourceSynced.set({ source }, 0);
        } else if (this.state.synced && !this.resetting.has(source)) {
          // Reconnected and resumed watching: in sync again.
          this.syncedSources.add(source);
          this.outSince.delete(source);
          this.config.metrics?.sourceSynced.set({ source }, 1);
        }
        log.info({ source, state: e.state, detail: e.detail }, 'source status');
        break;
    }
  }

  private changed(change: Change): void {
    this.changes.push(change);
    if (this.state.synced) this.schedule(this.config.debounceMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.running
        .then(() => this.renderAndApply())
        .catch((err: Error) => {
          this.state.lastError = err.message;
          this.state.lastApplyOk = false;
          this.config.logger.error({ err }, 'render failed; the last good files stay');
        })
        .finally(() => {
          this.state.firstRunDone = true;
          this.firstRunDone?.();
        });
    }, delayMs);
  }

  /** Whether the queued changes can affect this node's files (a first render always can). */
  private relevant(facts: ClusterFacts): boolean {
    const changes = this.changes;
    this.changes = [];
    const impact = impactOptionsOf(this.config.node, this.config.render);
    return changes.some((c) => (!c.before && !c.after) || affects(affectedNodes(c, facts, this.snapshot, this.store, impact), this.config.node));
  }

  private async renderAndApply(): Promise<void> {
    if (this.stopped) return;
    const { metrics, logger } = this.config;
    const facts = clusterFacts(this.snapshot, this.renderOptions, this.store);
    if (!this.relevant(facts) && this.pendingReload.size === 0) {
      metrics?.skippedNoop.inc();
      return;
    }
    const started = performance.now();
    const result = renderNode(this.snapshot, this.config.node, this.renderOptions, this.store);
    metrics?.renderSeconds.observe((performance.now() - started) / 1000);
    this.logDiagnostics(result.diagnostics);
    if (!result.files || !result.view) {
      metrics?.renders.inc({ result: 'error' });
      this.state.lastError = 'nothing rendered (see the errors above); the last good files stay';
      return;
    }
    metrics?.renders.inc({ result: 'ok' });
    metrics?.observeView(result.view);
    const view = result.view;
    await this.config.afterRender?.(view).catch((err: Error) => logger.error({ err }, 'after-render step failed'));
    const current = this.applied ?? (await readCurrentSet(this.config.out));
    if (sameSet(current, result.files)) {
      this.applied = current;
      metrics?.skippedNoop.inc();
      this.state.lastApplyOk = true;
      return this.reloadPending();
    }
    try {
      const secrets = secretFileNames(view, result.files);
      await applySet(this.config.out, result.files, { checks: this.config.checks, secret: (name) => secrets.has(name) });
    } catch (err) {
      const checkFailed = err instanceof CommandError;
      metrics?.applies.inc({ result: checkFailed ? 'check_failed' : 'write_failed' });
      if (checkFailed) metrics?.checkFailures.inc();
      this.state.lastError = (err as Error).message;
      this.state.lastApplyOk = false;
      logger.error({ err }, checkFailed ? 'check failed: the old files stay, nothing reloaded' : 'writing the files failed: the old files stay');
      if (!checkFailed) this.retryLater();
      return;
    }
    for (const name of new Set([...current.keys(), ...result.files.keys()])) {
      if (current.get(name) !== result.files.get(name)) this.pendingReload.add(name.startsWith('bird6') ? 'ipv6' : 'ipv4');
    }
    this.applied = result.files;
    this.state.applies++;
    this.state.lastApplyOk = true;
    this.state.lastError = null;
    metrics?.applies.inc({ result: 'ok' });
    metrics?.observeApplied(setHash(result.files));
    logger.info({ hash: setHash(result.files).slice(0, 16), files: result.files.size }, 'applied a new file set');
    await this.reloadPending();
  }

  private async reloadPending(): Promise<void> {
    const reload = this.config.reload;
    if (!reload) {
      this.pendingReload.clear();
      return;
    }
    for (const family of [...this.pendingReload]) {
      const daemon = family === 'ipv4' ? 'bird' : 'bird6';
      try {
        const outcome = await reload(family);
        this.pendingReload.delete(family);
        this.state.reloads++;
        this.config.metrics?.reloads.inc({ daemon, result: outcome === 'rolled-back' ? 'rolled_back' : 'ok' });
        this.config.logger.info({ daemon, outcome }, 'reloaded');
      } catch (err) {
        this.config.metrics?.reloads.inc({ daemon, result: 'failed' });
        this.state.lastError = (err as Error).message;
        this.config.logger.error({ err, daemon }, 'reload failed; will retry');
      }
    }
    // Back off while a reload keeps failing; start over once every pending reload went through.
    if (this.pendingReload.size === 0) this.reloadAttempt = 0;
    else this.retryLater();
  }

  private retryLater(): void {
    const delay = (this.config.backoff ?? defaultBackoff)(this.reloadAttempt++);
    this.changes.push({ before: null, after: null });
    this.schedule(delay);
  }
}
