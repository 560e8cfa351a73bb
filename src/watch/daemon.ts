import type { Logger } from 'pino';
import { formatDiagnostic } from '../model/diagnostics.js';
import { Snapshot } from '../model/snapshot.js';
import { affectedNodes, affects, impactOptionsOf, type Change } from '../render/impact.js';
import { clusterFacts, RenderStore, renderNode, secretFileNames, type RenderOptions } from '../render/index.js';
import type { ClusterFacts } from '../render/facts/cluster.js';
import type { NodeView } from '../render/view/view-types.js';
import { renderOptions, type RenderSettings } from './template-files.js';
import { applySet, CommandError, sameSet, setHash, type StagedCheck } from './apply.js';
import type { DaemonMetrics } from './metrics.js';
import { cleanStale, readOutputDir, swappedAt } from './output-dir.js';
import { daemonOf, Reloads, type Family, type Files, type Reloader } from './reloads.js';
import type { Backoff, Source, SourceEvent } from './source.js';
import { SourceStates } from './source-states.js';
import type { Rollback } from './status-file.js';
import { diagnosticLogger } from './diagnostic-log.js';

/**
 * Asks a BIRD daemon whether it runs `files` (swapped in at `swappedAt`, ms): the reasons when
 * it does not, none when it does, null when it cannot be asked.
 */
export type BirdProbe = (family: Family, files: Files, swappedAt: number | null) => Promise<string[] | null>;

/** The daemon's configuration. */
export interface DaemonConfig {
  readonly node: string;
  readonly out: string;
  readonly sources: readonly Source[];
  readonly render: RenderSettings;
  readonly debounceMs: number;
  /** Checks of the staged copy, by main file name. */
  readonly checks: ReadonlyMap<string, StagedCheck>;
  /** Null: never reload. */
  readonly reload: Reloader | null;
  /** Asked once at start when the files in place need no apply: does BIRD run them? */
  readonly probe?: BirdProbe;
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
  lastError: string | null;
  lastApplyOk: boolean;
}

const everything: Change = { before: null, after: null };

/**
 * The watch loop: merges every source's events into one snapshot, renders this node's files when
 * a change can affect them (debounced), and applies a changed set (stage, check, swap, reload once
 * per BIRD daemon). The last good files stay on any failure. Renders, reloads and drift checks run
 * one at a time, in order (`exclusive`).
 */
export class Daemon {
  readonly snapshot = new Snapshot();
  readonly state: DaemonState = { synced: false, firstRunDone: false, applies: 0, lastError: null, lastApplyOk: true };
  private readonly sources: SourceStates;
  private readonly reloads: Reloads;
  private readonly stopping = new AbortController();
  private changes: Change[] = [];
  /** The incremental render state of this snapshot lineage: a new one after a source lists again. */
  private store = new RenderStore();
  /** The render options with the templates compiled once, at construction (syntax errors surface at start-up). */
  private readonly renderOptions: RenderOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private applied: Files | null = null;
  private probed = false;
  private shownReloadError: string | null = null;
  private firstRunDone: (() => void) | null = null;
  /** Logs each render's diagnostics, a warning only when it is new (see diagnostic-log.ts). */
  private readonly logDiagnostics: ReturnType<typeof diagnosticLogger>;
  /** Resolves once the first render after every source synced has been applied (or has failed). */
  readonly firstRun = new Promise<void>((resolve) => (this.firstRunDone = resolve));

  constructor(private readonly config: DaemonConfig) {
    this.sources = new SourceStates(this.snapshot, config.logger, config.metrics, (c) => this.changed(c));
    this.reloads = new Reloads({ reload: config.reload, out: config.out, logger: config.logger, metrics: config.metrics, backoff: config.backoff });
    this.renderOptions = renderOptions(config.render);
    this.logDiagnostics = diagnosticLogger(config.logger);
  }

  /** Starts every source; resolves once all of them have synced (or the daemon was stopped). */
  async start(): Promise<void> {
    cleanStale(this.config.out);
    for (const s of this.config.sources) this.sources.add(s.name);
    await Promise.all(this.config.sources.map((s) => s.start((e) => this.onEvent(s.name, e))));
  }

  /**
   * Stops: no new work starts, a set still being checked is not swapped in, a reload waiting for
   * sessions gives up waiting, sources are abandoned. Resolves when the work in progress ended
   * (the caller bounds the wait).
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    const abandon = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 300).unref())]);
    await Promise.all(this.config.sources.map((s) => abandon(s.stop())));
    await this.running;
  }

  /** Whether every source is synced and watching now (false while one is disconnected). */
  allSourcesSynced(): boolean {
    return this.sources.allSynced();
  }

  /** Sources that have been out of sync for at least `ms` (a short blip does not count). */
  degradedSources(ms: number, now = Date.now()): string[] {
    return this.sources.degraded(ms, now);
  }

  /** The file set last applied (or found on disk), or null before the first render. */
  appliedFiles(): Files | null {
    return this.applied;
  }

  /** Undone reloads by daemon (reported until a later reload of that daemon goes through). */
  rollbacks(): ReadonlyMap<Family, Rollback> {
    return this.reloads.rollbacks();
  }

  /** Whether reloads are still pending (failed and retried). */
  reloadsPending(): boolean {
    return this.reloads.pending.size > 0;
  }

  /** Reloads a BIRD daemon on the next turn (e.g. after drift was found), even without a file change. */
  requestReload(family: Family): void {
    this.reloads.pending.add(family);
    this.changes.push(everything);
    this.schedule(0);
  }

  /** Runs `fn` after the work queued so far, and before any queued later: never beside a render or reload. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.running.then(fn);
    this.running = result.catch(() => undefined);
    return result;
  }

  private onEvent(source: string, e: SourceEvent): void {
    // A source listing again starts a new snapshot lineage: its derived state starts over too.
    if (e.type === 'reset') this.store = new RenderStore();
    this.sources.handle(source, e);
    if (e.type === 'synced' && !this.state.synced && this.sources.allSyncedOnce()) {
      this.state.synced = true;
      this.changes.push(everything);
      this.schedule(0);
    }
  }

  private changed(change: Change): void {
    // Until every source has listed once nothing runs, and the first run renders everything: the
    // changes of the first lists (the whole cluster) need no keeping.
    if (!this.state.synced) return;
    this.changes.push(change);
    this.schedule(this.config.debounceMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopping.signal.aborted || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.exclusive(() => this.turn());
    }, delayMs);
  }

  private async turn(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    try {
      await this.renderAndApply();
    } catch (err) {
      this.state.lastError = (err as Error).message;
      this.state.lastApplyOk = false;
      this.config.logger.error({ err }, 'render failed; the last good files stay');
    } finally {
      this.state.firstRunDone = true;
      this.firstRunDone?.();
    }
  }

  /** Takes the queued changes (the queue is empty afterwards); whether any can affect this node's files. */
  private takeRelevantChanges(facts: ClusterFacts): boolean {
    const changes = this.changes;
    this.changes = [];
    const impact = impactOptionsOf(this.config.node, this.config.render);
    // "Everything" first: it settles the question without working out what each change affects.
    return changes.some((c) => !c.before && !c.after) || changes.some((c) => affects(affectedNodes(c, facts, this.snapshot, this.store, impact), this.config.node));
  }

  private async renderAndApply(): Promise<void> {
    if (!this.takeRelevantChanges(clusterFacts(this.snapshot, this.renderOptions, this.store)) && this.reloads.pending.size === 0) {
      this.config.metrics?.skippedNoop.inc();
      return;
    }
    const rendered = this.render();
    if (!rendered) return;
    await this.config.afterRender?.(rendered.view).catch((err: Error) => this.config.logger.error({ err }, 'after-render step failed'));
    const current = this.applied ?? this.firstLook();
    if (sameSet(current, rendered.files)) {
      this.applied = current;
      this.config.metrics?.skippedNoop.inc();
      this.state.lastApplyOk = true;
      if (!this.probed) {
        await this.probeBird(current);
        this.config.logger.info({ hash: setHash(current).slice(0, 16) }, 'the files in place are up to date');
      }
    } else if (!(await this.apply(current, rendered.files, rendered.view))) {
      return;
    }
    this.probed = true;
    await this.reloadPending();
  }

  private render(): { files: Files; view: NodeView } | null {
    const { metrics, logger } = this.config;
    const started = performance.now();
    const result = renderNode(this.snapshot, this.config.node, this.renderOptions, this.store);
    metrics?.renderSeconds.observe((performance.now() - started) / 1000);
    this.logDiagnostics(result.diagnostics);
    if (!result.files || !result.view) {
      metrics?.renders.inc({ result: 'error' });
      this.state.lastError = 'nothing rendered (see the errors above); the last good files stay';
      return null;
    }
    metrics?.renders.inc({ result: 'ok' });
    metrics?.observeView(result.view);
    return { files: result.files, view: result.view };
  }

  /** The set in place when the daemon first looks (what BIRD presumably runs). */
  private firstLook(): Files {
    const current = readOutputDir(this.config.out) ?? new Map<string, string>();
    this.reloads.assumeLoaded(current);
    return current;
  }

  /** Stages, checks and swaps in a new set; false when it was not applied. */
  private async apply(current: Files, files: Files, view: NodeView): Promise<boolean> {
    const { metrics, logger } = this.config;
    try {
      const secrets = secretFileNames(view, files);
      await applySet(this.config.out, files, { checks: this.config.checks, secret: (name) => secrets.has(name), signal: this.stopping.signal });
    } catch (err) {
      if (this.stopping.signal.aborted) return false;
      const checkFailed = err instanceof CommandError;
      metrics?.applies.inc({ result: checkFailed ? 'check_failed' : 'write_failed' });
      if (checkFailed) metrics?.checkFailures.inc();
      this.state.lastError = (err as Error).message;
      this.state.lastApplyOk = false;
      logger.error({ err }, checkFailed ? 'check failed: the old files stay, nothing reloaded' : 'writing the files failed: the old files stay');
      if (!checkFailed) this.retryLater(this.reloads.nextBackoff());
      return false;
    }
    this.reloads.changed(current, files);
    this.applied = files;
    this.state.applies++;
    this.state.lastApplyOk = true;
    this.state.lastError = null;
    metrics?.applies.inc({ result: 'ok' });
    metrics?.observeApplied(setHash(files));
    logger.info({ hash: setHash(files).slice(0, 16), files: files.size }, 'applied a new file set');
    return true;
  }

  /**
   * At start, with the files in place already right: BIRD may still run something older (it
   * undid a change while this daemon was stopped in the grace period). Reload what differs.
   */
  private async probeBird(files: Files): Promise<void> {
    const probe = this.config.reload && this.config.probe;
    if (!probe) return;
    const at = swappedAt(this.config.out);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const reasons = await probe(family, files, at);
      if (reasons === null) continue;
      if (reasons.length === 0) {
        this.reloads.inSync(family, files);
        continue;
      }
      this.config.logger.info({ daemon: daemonOf(family), reasons }, 'BIRD does not run the files in place; reloading');
      this.reloads.pending.add(family);
    }
  }

  private async reloadPending(): Promise<void> {
    const retryIn = await this.reloads.run(this.applied!, this.stopping.signal);
    // A reload error is shown until the reloads go through.
    if (this.reloads.lastError) this.state.lastError = this.reloads.lastError;
    else if (this.state.lastError === this.shownReloadError) this.state.lastError = null;
    this.shownReloadError = this.reloads.lastError;
    if (retryIn !== null) this.retryLater(retryIn);
  }

  private retryLater(delayMs: number): void {
    this.changes.push(everything);
    this.schedule(delayMs);
  }
}
