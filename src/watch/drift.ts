import type { Logger } from 'pino';
import { compareDaemon, renderedDaemon, type DaemonReport } from '../inspect/compare.js';
import { withBirdControl } from './bird-control.js';
import type { BirdProbe, Daemon } from './daemon.js';
import type { DaemonMetrics } from './metrics.js';
import { daemonOf, type Family, type Files } from './reloads.js';

/** The problems of a report that mean BIRD runs something else than the files: drift. */
export function driftOf(report: DaemonReport): string[] {
  const out = report.sessions.filter((s) => s.state === 'missing' || s.state === 'not-rendered' || s.state === 'differs').map((s) => `${s.name}: ${s.problem ?? s.state}`);
  if (report.routerId.rendered && report.routerId.running && report.routerId.rendered !== report.routerId.running) out.push(`router id ${report.routerId.running}, files say ${report.routerId.rendered}`);
  return out;
}

/**
 * BIRD's `Last reconfiguration on` time (`%F %T`, BIRD's local time, whole seconds) as ms since
 * the epoch, or null in another format. An undone reload brings back the old config's time.
 */
export function birdTime(text: string | null): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(text ?? '');
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s).getTime();
}

/**
 * A probe of BIRD over its control sockets, as `bird-confd status` compares: sessions missing,
 * not rendered or with another neighbor, another router id; and, given when the files were
 * swapped in, a config loaded before that (BIRD shows whole seconds: a second of slack).
 */
export function socketProbe(sockets: Readonly<Record<Family, string>>): BirdProbe {
  return async (family, files, swappedAtMs) => {
    const name = daemonOf(family);
    let report: DaemonReport;
    let loadedAt: number | null;
    try {
      ({ report, loadedAt } = await withBirdControl(sockets[family], async (c) => {
        const status = await c.status();
        const running = { reachable: true as const, protocols: await c.protocols(), status };
        return { report: compareDaemon(name, sockets[family], renderedDaemon(files, `${name}.cfg`), running), loadedAt: birdTime(status.lastReconfiguration) };
      }, { timeoutMs: 5000 }));
    } catch {
      return null; // not running here (e.g. no bird6): nothing to compare
    }
    const reasons = driftOf(report);
    if (swappedAtMs !== null && loadedAt !== null && loadedAt < Math.floor(swappedAtMs / 1000) * 1000 - 1000) {
      reasons.push(`config loaded ${new Date(loadedAt).toISOString()}, before the files in place (${new Date(swappedAtMs).toISOString()})`);
    }
    return reasons;
  };
}

/**
 * Every `intervalMs`, asks each BIRD what it runs and compares it with the applied files, as
 * `bird-confd status` does; on drift it logs it, counts it, and reloads that BIRD. Each check runs
 * in the daemon's queue, never beside a render or reload, so it cannot see files whose reload is
 * still in flight. A BIRD whose reload was undone is left alone: reloading it would try the same
 * files again (the daemon waits for the next change). Returns a function that stops the checks.
 */
export function startDriftCheck(daemon: Daemon, probe: BirdProbe, intervalMs: number, logger: Logger, metrics?: DaemonMetrics): () => void {
  let queued = false;
  const check = async () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const files: Files | null = daemon.appliedFiles();
      if (!files) return;
      if (daemon.rollbacks().has(family)) continue;
      const drift = await probe(family, files, null);
      if (!drift?.length) continue;
      metrics?.drift.inc({ daemon: daemonOf(family) });
      logger.warn({ daemon: daemonOf(family), drift }, 'drift: BIRD runs something other than the applied files; reloading');
      daemon.requestReload(family);
    }
  };
  const timer = setInterval(() => {
    if (queued) return;
    queued = true;
    void daemon.exclusive(check).finally(() => (queued = false));
  }, intervalMs);
  return () => clearInterval(timer);
}
