import { createServer, type Server } from 'node:http';
import type { Daemon } from './daemon.js';
import type { DaemonMetrics } from './metrics.js';
import { daemonOf } from './reloads.js';

/** What the probes report. */
export interface HealthState {
  /** The process is alive and its loop turns. */
  readonly live: boolean;
  /** Every source synced, and the last apply succeeded (or nothing needed applying). */
  readonly ready: boolean;
  /** A short human reason, shown in the probe body. */
  readonly detail: string;
}

/**
 * The daemon's health: ready once the first render ran, no source has been out of sync for
 * `degradedAfterMs`, the last apply succeeded, and no BIRD runs the previous config because its
 * reload was undone (until a later reload of it goes through).
 */
export function daemonHealth(daemon: Daemon, degradedAfterMs: number): HealthState {
  const degraded = daemon.degradedSources(degradedAfterMs);
  const undone = [...daemon.rollbacks()].map(([family, r]) => `${daemonOf(family)} runs the previous config: its reload was undone at ${r.at} (${r.lost.join(', ')} did not come back); waiting for the next change`);
  const ready = daemon.state.firstRunDone && degraded.length === 0 && daemon.state.lastApplyOk && undone.length === 0;
  let detail: string;
  if (degraded.length) detail = `degraded: ${degraded.join(', ')} out of sync for ${degradedAfterMs / 1000} s or more; the last good files stay`;
  else if (!daemon.state.firstRunDone) detail = daemon.state.synced ? 'applying the first file set' : 'waiting for the first sync';
  else if (undone.length) detail = `degraded: ${undone.join('; ')}`;
  else detail = daemon.state.lastError ?? (daemon.allSourcesSynced() ? 'in sync' : 'a source is reconnecting');
  return { live: true, ready, detail };
}

/**
 * Serves `/livez`, `/readyz` (200 or 503, usable as Kubernetes probes) and `/metrics` on
 * `address` (`host:port`; port 0 picks a free one). Resolves once listening.
 */
export async function startHealthServer(address: string, metrics: DaemonMetrics, state: () => HealthState): Promise<Server> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(colon + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    if (path === '/livez' || path === '/readyz') {
      const s = state();
      const ok = path === '/livez' ? s.live : s.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(`${ok ? 'ok' : 'not ok'}: ${s.detail}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /livez, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
