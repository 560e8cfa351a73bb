import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeView, PeerKind } from '../render/view/view-types.js';

/** The daemon's Prometheus metrics, in a registry of their own (so tests can run several daemons). */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly renders = new Counter({ name: 'bird_confd_renders_total', help: 'Node file sets rendered, by result (ok, error).', labelNames: ['result'], registers: [this.registry] });
  readonly applies = new Counter({ name: 'bird_confd_applies_total', help: 'File sets applied to the output folder, by result (ok, check_failed, write_failed).', labelNames: ['result'], registers: [this.registry] });
  readonly reloads = new Counter({ name: 'bird_confd_reloads_total', help: 'BIRD reloads, by daemon (bird, bird6) and result (ok, failed, rolled_back).', labelNames: ['daemon', 'result'], registers: [this.registry] });
  readonly rollbacks = new Counter({ name: 'bird_confd_rollbacks_total', help: 'Reloads undone because sessions whose configuration did not change did not come back, by daemon (bird, bird6); that BIRD runs the previous config until the next change.', labelNames: ['daemon'], registers: [this.registry] });
  readonly checkFailures = new Counter({ name: 'bird_confd_check_failures_total', help: 'Staged file sets rejected by the check command.', registers: [this.registry] });
  readonly skippedNoop = new Counter({ name: 'bird_confd_skipped_noop_total', help: 'Changes that left the rendered files as they were (nothing written, nothing reloaded).', registers: [this.registry] });
  readonly sourceSynced = new Gauge({ name: 'bird_confd_source_synced', help: 'Whether a datastore source has completed its list and is watching (1) or not (0).', labelNames: ['source'], registers: [this.registry] });
  readonly lastApply = new Gauge({ name: 'bird_confd_last_apply_success_timestamp_seconds', help: 'When the files were last applied successfully (Unix time).', registers: [this.registry] });
  readonly appliedHash = new Gauge({ name: 'bird_confd_applied_config_info', help: 'The SHA-256 (first 16 hex digits) of the applied file set, as a label; the value is 1.', labelNames: ['hash'], registers: [this.registry] });
  readonly peers = new Gauge({ name: 'bird_confd_peers', help: 'BGP sessions in the rendered config, by kind (mesh, global, node) and family.', labelNames: ['kind', 'family'], registers: [this.registry] });
  readonly drift = new Counter({ name: 'bird_confd_drift_total', help: 'Periodic checks that found BIRD running something other than the applied files, by daemon.', labelNames: ['daemon'], registers: [this.registry] });
  readonly renderSeconds = new Histogram({ name: 'bird_confd_render_duration_seconds', help: 'Time to compute and render the node files.', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bird_confd_' });
  }

  /** Records the peers of a rendered view. */
  observeView(view: NodeView): void {
    this.peers.reset();
    for (const f of [view.ipv4, view.ipv6]) {
      const counts: Record<PeerKind, number> = { mesh: 0, global: 0, node: 0, 'local-workload': 0 };
      for (const p of f.sessions) counts[p.kind]++;
      for (const [kind, n] of Object.entries(counts)) this.peers.set({ kind, family: f.family }, n);
    }
  }

  /** Records a successful apply of a file set with the given hash. */
  observeApplied(hash: string, when = Date.now()): void {
    this.appliedHash.reset();
    this.appliedHash.set({ hash: hash.slice(0, 16) }, 1);
    this.lastApply.set(Math.floor(when / 1000));
  }
}
