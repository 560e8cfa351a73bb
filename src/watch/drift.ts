import type { Logger } from 'pino';
import { compareDaemon, renderedDaemon, type DaemonReport } from '../inspect/compare.js';
import { BirdControl } from './bird-control.js';
import type { Daemon } from './daemon.js';
import type { DaemonMetrics } from './metrics.js';

/** The problems of a report that mean BIRD runs something else than the files: drift. */
export function driftOf(report: DaemonReport): string[] {
  const out = report.sessions.filter((s) => s.state === 'missing' || s.state === 'not-rendered' || s.state === 'differs').map((s) => `${s.name}: ${s.problem ?? s.state}`);
  if (report.routerId.rendered && report.routerId.running && report.routerId.rendered !== report.routerId.running) out.push(`router id ${report.routerId.running}, files say ${report.routerId.rendered}`);
  return out;
}

/**
 * Every `intervalMs`, asks each BIRD over its control socket what it runs and compares it with the
 * applied files, as `bird-confd status` does; on drift it logs it, counts it, and reloads that
 * BIRD so it runs the applied files again. Returns a function that stops the checks.
 */
export function startDriftCheck(daemon: Daemon, sockets: { ipv4: string; ipv6: string }, intervalMs: number, logger: Logger, metrics?: DaemonMetrics): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void check().finally(() => (busy = false));
  }, intervalMs);
  const check = async () => {
    const files = daemon.appliedFiles();
    if (!files) return;
    for (const [family, main, name] of [['ipv4', 'bird.cfg', 'bird'], ['ipv6', 'bird6.cfg', 'bird6']] as const) {
      const rendered = renderedDaemon(files, main);
      let report: DaemonReport;
      try {
        const control = await BirdControl.open(sockets[family], { timeoutMs: 5000 });
        try {
          report = compareDaemon(name, sockets[family], rendered, { reachable: true, protocols: await control.protocols(), status: await control.status() });
        } finally {
          control.close();
        }
      } catch {
        continue; // not running here (e.g. no bird6): nothing to compare
      }
      const drift = driftOf(report);
      if (drift.length === 0) continue;
      metrics?.drift.inc({ daemon: name });
      logger.warn({ daemon: name, drift }, 'drift: BIRD runs something other than the applied files; reloading');
      daemon.requestReload(family);
    }
  };
  return () => clearInterval(timer);
}
